// Random GRPO micro-batches for the RL-maths tests: (R, T) log-probs with ratios spread across both clip
// bounds, advantages with exact zeros, masks with a prompt prefix, padding and some empty rows. Test-only.
import { Rng } from '@lwz/core';
import type { PolicyLossInput } from './policy-loss';

export interface RandomLossInput extends PolicyLossInput {
  logprobs: Float64Array;
  oldLogprobs: Float64Array;
  refLogprobs: Float64Array;
  advantages: Float64Array;
  mask: Uint8Array;
}

export function randomLossInput(seed: number, rows = 1 + new Rng(seed).int(7), T = 1 + new Rng(seed + 1).int(13)): RandomLossInput {
  const rng = new Rng(seed + 2);
  const n = rows * T;
  const oldLogprobs = Float64Array.from({ length: n }, () => -5 * rng.next()); // (R, T)
  const logprobs = oldLogprobs.map((v) => v + 0.3 * rng.normal()); // (R, T): ratios mostly in [0.5, 2]
  const refLogprobs = oldLogprobs.map((v) => v + 0.2 * rng.normal()); // (R, T)
  const advantages = Float64Array.from({ length: rows }, () => (rng.next() < 0.15 ? 0 : rng.normal())); // (R,)
  const mask = new Uint8Array(n); // (R, T)
  for (let r = 0; r < rows; r++) {
    if (rng.next() < 0.15) continue; // an empty row (all prompt, or a skipped sample)
    const start = rng.int(T);
    const end = start + 1 + rng.int(T - start);
    mask.fill(1, r * T + start, r * T + end);
  }
  return { rows, T, logprobs, oldLogprobs, refLogprobs, advantages, mask };
}

/** Rows [r0, r1) of a loss input: one micro-batch. */
export function sliceRows(x: RandomLossInput, r0: number, r1: number): RandomLossInput {
  return {
    rows: r1 - r0,
    T: x.T,
    logprobs: x.logprobs.slice(r0 * x.T, r1 * x.T),
    oldLogprobs: x.oldLogprobs.slice(r0 * x.T, r1 * x.T),
    refLogprobs: x.refLogprobs.slice(r0 * x.T, r1 * x.T),
    advantages: x.advantages.slice(r0, r1),
    mask: x.mask.slice(r0 * x.T, r1 * x.T),
  };
}
