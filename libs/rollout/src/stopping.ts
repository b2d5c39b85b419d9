// Stopping criteria, checked after every sampled token: a stop token id (end-of-sequence, <|im_end|>), a stop
// string found in the decoded text (across token boundaries: `</answer>` may arrive as "</", "ans", "wer>"),
// or the answer's token cap. Each is a small class; StoppingCriteria runs them in that order. Also the
// stream hold-back: how many trailing characters could still become a stop string (not yet safe to emit).
// Not the context limit (the engine caps maxNewTokens by what the context leaves).

export type FinishReason = 'stop' | 'length';

export interface Finish {
  reason: FinishReason;
  /** the stop string or stop token id that ended the answer (vLLM's `stop_reason`); absent for `length` */
  stop?: string | number;
  /** for stop strings: where the match starts and ends in the text */
  matchStart?: number;
  matchEnd?: number;
}

/** What a criterion sees after a token: the whole answer so far and where this token's text begins. */
export interface AnswerState {
  readonly tokenIds: readonly number[];
  readonly text: string;
  /** text.length before this token's characters were appended */
  readonly newTextFrom: number;
}

export interface StoppingCriterion {
  check(state: AnswerState): Finish | null;
}

export class StopTokenCriterion implements StoppingCriterion {
  private readonly ids: ReadonlySet<number>;
  constructor(ids: Iterable<number>) {
    this.ids = new Set(ids);
  }

  check(s: AnswerState): Finish | null {
    const last = s.tokenIds[s.tokenIds.length - 1];
    return this.ids.has(last) ? { reason: 'stop', stop: last } : null;
  }
}

/** Finds the earliest stop string; only the tail that this token could have completed is searched. */
export class StopStringCriterion implements StoppingCriterion {
  private readonly longest: number;
  constructor(readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  check(s: AnswerState): Finish | null {
    if (this.stops.length === 0 || s.text.length === s.newTextFrom) return null;
    const from = Math.max(0, s.newTextFrom - this.longest + 1);
    let best: Finish | null = null;
    for (const stop of this.stops) {
      const at = s.text.indexOf(stop, from);
      if (at >= 0 && (best === null || at < (best.matchStart as number))) {
        best = { reason: 'stop', stop, matchStart: at, matchEnd: at + stop.length };
      }
    }
    return best;
  }

  /** Trailing characters of `text` that are a proper prefix of some stop string (held back from streams). */
  holdBack(text: string): number {
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}

export class MaxTokensCriterion implements StoppingCriterion {
  constructor(readonly maxNewTokens: number) {}

  check(s: AnswerState): Finish | null {
    return s.tokenIds.length >= this.maxNewTokens ? { reason: 'length' } : null;
  }
}

/** The three criteria in order: a token that is both a stop token and the last allowed one finishes as `stop`. */
export class StoppingCriteria {
  readonly strings: StopStringCriterion;
  private readonly all: StoppingCriterion[];

  constructor(opts: { stopTokenIds: Iterable<number>; stop: readonly string[]; maxNewTokens: number }) {
    this.strings = new StopStringCriterion(opts.stop);
    this.all = [new StopTokenCriterion(opts.stopTokenIds), this.strings, new MaxTokensCriterion(opts.maxNewTokens)];
  }

  check(state: AnswerState): Finish | null {
    for (const c of this.all) {
      const f = c.check(state);
      if (f) return f;
    }
    return null;
  }
}
