// The length reward of an answer of L words (countWords of the <answer> part) against its target [lo, hi]:
//   r = 1 if lo <= L <= hi;  L / lo if L < lo;  (Lmax - L) / (Lmax - hi) if L > hi;  clipped to [0, 1].
// A [0, 0] target (cannot be fulfilled) gives 0: such prompts are skipped in training, not rewarded.
// Lmax, where overshooting reaches 0, is configurable (see LmaxRule).

import type { WordRange } from './range-rule';

/**
 * Where the reward for a too-long answer reaches 0. `hi-multiple` (default, factor 2): Lmax = factor * hi, so
 * an answer twice the upper bound scores 0 whatever the target's scale. `fixed`: one cap for every prompt, as
 * in the paper (its generation limit of about 12k-14k). Departure from the paper's fixed cap: our targets are
 * 50-1,300 words, and with a 12k cap an answer of 3x a 500-word target would still score ~0.9.
 */
export type LmaxRule = { rule: 'hi-multiple'; factor: number } | { rule: 'fixed'; words: number };

export const DEFAULT_LMAX: LmaxRule = { rule: 'hi-multiple', factor: 2 };

export function lengthCap(range: WordRange, lmax: LmaxRule): number {
  return lmax.rule === 'fixed' ? lmax.words : lmax.factor * range[1];
}

export function lengthReward(words: number, range: WordRange, lmax: LmaxRule = DEFAULT_LMAX): number {
  const [lo, hi] = range;
  if (lo === 0 && hi === 0) return 0;
  if (words >= lo && words <= hi) return 1;
  if (words < lo) return Math.max(0, words / lo);
  const cap = lengthCap(range, lmax);
  if (cap <= hi) return 0;
  return Math.min(1, Math.max(0, (cap - words) / (cap - hi)));
}

/** Batched: words (B*G,), ranges (B*G,) -> rewards (B*G,). */
export function lengthRewards(words: ArrayLike<number>, ranges: readonly WordRange[], lmax: LmaxRule = DEFAULT_LMAX): Float64Array {
  if (words.length !== ranges.length) throw new Error(`lengthRewards: ${words.length} word counts for ${ranges.length} ranges`);
  const out = new Float64Array(words.length);
  for (let i = 0; i < words.length; i++) out[i] = lengthReward(words[i], ranges[i], lmax);
  return out;
}
