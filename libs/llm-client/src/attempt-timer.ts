// The deadline of one HTTP attempt: an AbortController that fires after `ms` of silence. `touch()`
// restarts the clock (streams: the limit is the longest gap between events, not the whole stream), and a
// caller's own AbortSignal is forwarded. `timedOut` tells our deadline apart from the caller's abort.

export class AttemptTimer {
  private readonly controller = new AbortController();
  private handle: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;
  private readonly onOuterAbort = () => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly ms: number,
    private readonly outer?: AbortSignal,
  ) {
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no answer within ${this.ms} ms`));
    }, this.ms);
  }

  /** Stop the clock until the next touch(): a stream's consumer holding an event is not the server's silence. */
  pause(): void {
    clearTimeout(this.handle);
  }

  /** Stop the clock; `abort` also cancels the request (a stream left before its end). */
  clear(abort = false): void {
    clearTimeout(this.handle);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    if (abort) this.controller.abort(new Error('closed by the client'));
  }
}
