// Bootstrap intervals over prompts: the prompt is the unit that was sampled, so each resample draws prompts
// with replacement (all battles of a drawn prompt come along, as often as it is drawn) and refits. The plan
// of draws comes from a seeded Rng, so intervals are reproducible and a test can refit the same resamples.
// Intervals are percentile intervals with linear interpolation between order statistics (numpy's default).
import { Rng } from '@lwz/core';

/** (resamples, n) prompt indices: resample r draws n prompts from [0, n) with replacement. */
export function bootstrapPlan(n: number, resamples: number, seed: number): number[][] {
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new Error(`bootstrap resamples must be a positive integer, got ${resamples}`);
  const rng = new Rng(seed);
  return Array.from({ length: resamples }, () => Array.from({ length: n }, () => (n > 0 ? rng.int(n) : 0)));
}

/** The q-quantile (q in [0, 1]) of `values`, interpolating linearly between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** 95 % percentile interval [2.5 %, 97.5 %]. */
export function interval95(values: readonly number[]): [number, number] {
  return [quantile(values, 0.025), quantile(values, 0.975)];
}

/** Percentile interval of the mean of per-unit values (queries, answers), resampling units. */
export function bootstrapMeanInterval(values: readonly number[], resamples: number, seed: number): [number, number] {
  if (values.length === 0) return [NaN, NaN];
  const means = bootstrapPlan(values.length, resamples, seed).map((draw) => draw.reduce((s, i) => s + values[i], 0) / draw.length);
  return interval95(means);
}

export const mean = (values: readonly number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
