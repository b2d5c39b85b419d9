// Repeated random-token sequences in pretraining windows (issue #11): in a share of the training windows a
// segment becomes a sequence of L random tokens written `copies` times back to back. From the second copy on,
// every token but the copy's first is predictable only by looking back one period and copying (an induction
// head: find the earlier occurrence of the current token, predict what followed it), and by nothing else,
// since the tokens are drawn independently. This is the classic setting in which induction heads form fast;
// natural-text repeats (repeat-spans.ts) grew none in 800 continuation steps. The tokens come uniformly from
// the training split's `topTokens` most frequent tokens (end-of-text excluded): their embeddings are trained,
// so the copying learnt here works on the representations natural text uses, while rare tokens' embeddings
// are still near their random init. Which rows change, L, the segment's place and the tokens are a pure
// function of (seed, step), so resume stays exact. Validation windows are never changed.
import { Rng } from '@lwz/core';
import type { WindowBatch } from '@lwz/data';

export interface RandomRepeats {
  /** share of training windows that get a repeated random sequence, 0..1 */
  share: number;
  /** sequence length range in tokens (inclusive) */
  minTokens: number;
  maxTokens: number;
  /** how many times the sequence is written back to back (>= 2); copies * maxTokens must fit a window */
  copies: number;
  /** draw tokens from this many most frequent training tokens */
  topTokens: number;
  /**
   * updates over which the latest start grows linearly from 0 (the window's first token) to the window's end, so
   * copying is first met where nothing precedes it, then after more and more text; 0 or unset: anywhere from step 0
   */
  startRamp?: number;
}

/** Per-token role in a window (same layout as WindowBatch.tokens): what the copy-part metrics average over. */
export const ROLE_TEXT = 0;
/** a token of the first copy: unpredictable (uniform over the pool) */
export const ROLE_FIRST = 1;
/** a token of a later copy that copying predicts (all but the second copy's first token) */
export const ROLE_COPY = 2;

/** The `top` most frequent tokens of `tokens`, most frequent first (ties by id), without `exclude`. */
export function frequentTokens(tokens: ArrayLike<number>, top: number, exclude: number): Int32Array {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i++) counts.set(tokens[i], (counts.get(tokens[i]) ?? 0) + 1);
  counts.delete(exclude);
  const ids = [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b);
  return Int32Array.from(ids.slice(0, top));
}

/**
 * Writes a repeated random sequence into about `share` of the batch's rows, in place, drawing tokens from
 * `pool`. Returns each window token's role (ROLE_*), row-major like `b.tokens`, and how many rows changed.
 */
export function randomRepeatsInBatch(
  b: WindowBatch,
  opts: RandomRepeats,
  pool: Int32Array,
  seed: number,
  step: number,
): { roles: Uint8Array; changed: number } {
  const W = b.T + 1; // a row holds T + 1 tokens (inputs and the shifted targets)
  const roles = new Uint8Array(b.B * W);
  if (opts.share <= 0) return { roles, changed: 0 };
  if (opts.copies * opts.maxTokens > W) {
    throw new Error(`randomRepeats: ${opts.copies} copies of ${opts.maxTokens} tokens must fit a window of ${W} tokens`);
  }
  if (pool.length < 2) throw new Error(`randomRepeats: the token pool has ${pool.length} tokens, need at least 2`);
  const rng = new Rng(seed).split(`random-repeats/${step}`);
  let changed = 0;
  for (let r = 0; r < b.B; r++) {
    // each row draws from its own stream, so a row's sequence does not depend on which rows before it changed
    const rr = rng.split(r);
    if (rr.next() >= opts.share) continue;
    const len = opts.minTokens + rr.int(opts.maxTokens - opts.minTokens + 1);
    const room = W - opts.copies * len; // the latest start
    const ramp = opts.startRamp ?? 0;
    const start = rr.int((ramp > 0 ? Math.min(room, Math.floor((room * step) / ramp)) : room) + 1);
    const row = b.tokens.subarray(r * W, (r + 1) * W);
    const role = roles.subarray(r * W, (r + 1) * W);
    for (let i = 0; i < len; i++) {
      row[start + i] = pool[rr.int(pool.length)];
      role[start + i] = ROLE_FIRST;
    }
    for (let c = 1; c < opts.copies; c++) row.copyWithin(start + c * len, start, start + len);
    // the second copy's first token follows a token seen nowhere before it: not predictable by copying; later ones are
    role.fill(ROLE_COPY, start + len + 1, start + opts.copies * len);
    changed += 1;
  }
  return { roles, changed };
}

/** Mean of -logprob over the targets whose window token has `role`; NaN when none. Target t of row r is window token r*(T+1)+t+1. */
export function meanLossOfRole(logprobs: ArrayLike<number>, roles: Uint8Array, B: number, T: number, role: number): number {
  let sum = 0;
  let n = 0;
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < T; t++) {
      if (roles[r * (T + 1) + t + 1] !== role) continue;
      sum -= logprobs[r * T + t];
      n += 1;
    }
  }
  return n > 0 ? sum / n : NaN;
}
