// Repeated spans in pretraining windows (issue #11): in a share of the training windows a random span is
// copied to a later place in the same window, overwriting what was there. The loss stays the plain
// next-token loss, so predicting the second copy from the first is rewarded: the cheapest known way to grow
// in-context copying (induction heads), which the reward model's "repeat" detector lacks. Which rows get a
// span, its length and both positions are a pure function of (seed, step), so resume stays exact.
import { Rng } from '@lwz/core';
import type { WindowBatch } from '@lwz/data';

export interface RepeatSpans {
  /** share of training windows that get a repeated span, 0..1 */
  share: number;
  /** span length range in tokens (inclusive) */
  minTokens: number;
  maxTokens: number;
}

/** Copies a span forward in about `share` of the batch's rows, in place; returns how many rows changed. */
export function repeatSpansInBatch(b: WindowBatch, opts: RepeatSpans, seed: number, step: number): number {
  if (opts.share <= 0) return 0;
  const W = b.T + 1; // a row holds T + 1 tokens (inputs and the shifted targets)
  if (2 * opts.maxTokens > W) throw new Error(`repeatSpans.maxTokens ${opts.maxTokens}: two copies must fit a window of ${W} tokens`);
  const rng = new Rng(seed).split(`repeat-spans/${step}`);
  let changed = 0;
  for (let r = 0; r < b.B; r++) {
    // draw all four numbers for every row, so a row's span does not depend on the rows before it being chosen
    const pick = rng.next();
    const len = opts.minTokens + rng.int(opts.maxTokens - opts.minTokens + 1);
    const src = rng.int(W - 2 * len + 1); // the source ends by W - len, leaving room for the copy after it
    const dst = src + len + rng.int(W - src - 2 * len + 1); // dst >= src + len and dst + len <= W
    if (pick >= opts.share) continue;
    const row = b.tokens.subarray(r * W, (r + 1) * W);
    row.copyWithin(dst, src, src + len);
    changed += 1;
  }
  return changed;
}
