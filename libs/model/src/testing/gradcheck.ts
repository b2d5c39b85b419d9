// Finite-difference helpers for gradient tests: the loss sum_{b,t} w[b,t] logprob[b,t] evaluated through the
// float64 reference, and which tensor entries to probe. Test-only.
import type { Rng } from '@lwz/core';
import type { ModelConfig } from '../config';
import { referenceLogprobs } from './reference-qwen2';

/** central-difference step (the reference is float64, so truncation and rounding errors are both ~1e-10) */
export const FD_STEP = 1e-5;

/** The loss through the reference: rows scored separately, weights at valid positions only. */
export function referenceLoss(cfg: ModelConfig, weights: Map<string, Float64Array>, seqs: number[][], w: Float32Array, T: number): number {
  let loss = 0;
  seqs.forEach((s, b) => {
    const lp = referenceLogprobs(cfg, weights, s);
    for (let t = 0; t < lp.length; t++) loss += w[b * T + t] * lp[t];
  });
  return loss;
}

/** Indices to probe in a tensor of `n` values: a few random ones plus any `extra`. */
export function probeIndices(rng: Rng, n: number, count: number, extra: number[] = []): number[] {
  const set = new Set(extra.filter((i) => i < n));
  while (set.size < Math.min(n, count + extra.length)) set.add(rng.int(n));
  return [...set];
}
