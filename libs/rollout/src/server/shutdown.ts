// Stopping an HTTP server the way uvicorn and vLLM stop: drain() stops taking connections, lets the requests in
// flight (reading, queued or generating) finish for up to a grace period, then closes and cuts off what is left;
// close() cuts off at once, a drain in progress included. While it stops, `stopping` tells the request handler to
// answer new requests on kept-alive connections 503 (openai-server.ts does that, and /health says "draining").
// Counts requests, not answers; not the routes.
import type { Server, ServerResponse } from 'node:http';

export interface DrainReport {
  /** requests in flight when the drain began */
  waitedFor: number;
  /** requests cut off at the end (their clients see the connection close) */
  cutOff: number;
  /** every request finished, the grace ran out, or close() came first */
  ended: 'finished' | 'grace' | 'closed';
}

export class Shutdown {
  private inFlight = 0;
  private state: 'serving' | 'draining' | 'closed' = 'serving';
  private stopped: Promise<void> | null = null;
  /** wakes a drain: its last request ended, or close() came */
  private wake: ((why: 'finished' | 'closed') => void) | null = null;

  constructor(private readonly server: Server) {}

  /** Draining or closed: new requests are refused. */
  get stopping(): boolean {
    return this.state !== 'serving';
  }

  /** Requests received and not yet answered (body still arriving, queued or generating). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Count a request until its response closes, answered or its connection gone. */
  track(res: ServerResponse): void {
    this.inFlight++;
    res.once('close', () => {
      this.inFlight--;
      if (this.inFlight === 0) this.wake?.('finished');
    });
  }

  /**
   * Stop listening (kept-alive connections with no request in progress close too) and wait for the requests in
   * flight, for at most `graceMs` (0: none); then close every connection, cutting off what is left.
   */
  async drain(graceMs: number): Promise<DrainReport> {
    if (this.state !== 'serving') throw new Error('Shutdown.drain: the server is already stopping');
    this.state = 'draining';
    const waitedFor = this.inFlight;
    const stopped = this.stopListening();
    let timer: NodeJS.Timeout | undefined;
    const ended = await new Promise<DrainReport['ended']>((resolve) => {
      if (this.inFlight === 0) return resolve('finished');
      this.wake = resolve;
      timer = setTimeout(() => resolve('grace'), graceMs);
    });
    clearTimeout(timer);
    this.wake = null;
    const cutOff = this.inFlight;
    this.state = 'closed';
    this.server.closeAllConnections();
    await stopped;
    return { waitedFor, cutOff, ended };
  }

  /** Close now: every connection closes, requests in flight are cut off; a drain in progress ends here. */
  close(): Promise<void> {
    if (this.state === 'draining') {
      this.wake?.('closed');
      return this.stopListening();
    }
    this.state = 'closed';
    this.server.closeAllConnections();
    return this.stopListening();
  }

  /** server.close() once: resolves when the last connection has closed. */
  private stopListening(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.stopped;
  }
}
