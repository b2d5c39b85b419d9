// Reward combinations: several rewards per sample (each (N,), N = B*G) -> one advantage per sample (N,).
//   advantage-average (the paper): A = sum_k w_k * est_g(r_k) / sum_k w_k. Each reward is normalised within
//     its prompt group on its own, so a reward with zero spread in a group adds 0 there instead of diluting
//     the others, and no reward's scale dominates.
//   normalize-then-weighted-sum: z_k = (r_k - mean_batch) / (std_batch + eps) (population std over the whole
//     batch; zero spread -> 0), r = sum_k w_k z_k / sum_k w_k, A = est_g(r).
//   sum-then-normalize: r = sum_k w_k r_k / sum_k w_k, A = est_g(r) (one scalar reward, plain GRPO).
// Weights default to 1 (equal, as in the paper); a weight of 0 leaves that reward out. `perReward` is each
// reward's own est_g(r_k), for the trainer's "share of the advantage" metrics.
import { createRegistry } from '@lwz/core';
import type { AdvantageEstimator, EstimatorOptions } from './estimators';
import type { GroupIndex } from './groups';

export interface CombinationInput {
  /** name -> rewards (N,) */
  rewards: Readonly<Record<string, ArrayLike<number>>>;
  /** name -> weight >= 0; a missing name weighs 1 */
  weights?: Readonly<Record<string, number>>;
  groups: GroupIndex;
  estimator: AdvantageEstimator;
  options: EstimatorOptions;
}

export interface CombinationResult {
  /** (N,) */
  advantages: Float64Array;
  /** name -> (N,) advantage of that reward alone, est_g(r_k) */
  perReward: Record<string, Float64Array>;
}

export type RewardCombination = (input: CombinationInput) => CombinationResult;

/** The rewards with a positive weight, their weights, and the weight sum; checks names and lengths. */
function weighted(input: CombinationInput): { names: string[]; w: number[]; wsum: number; n: number } {
  const all = Object.keys(input.rewards);
  if (all.length === 0) throw new Error('reward combination: no rewards given');
  const extra = Object.keys(input.weights ?? {}).filter((k) => !(k in input.rewards));
  if (extra.length) throw new Error(`reward combination: weights for unknown reward(s) ${extra.join(', ')} (rewards: ${all.join(', ')})`);
  const n = input.groups.ids.length;
  for (const k of all) {
    if (input.rewards[k].length !== n)
      throw new Error(`reward combination: reward ${k} has ${input.rewards[k].length} values for ${n} samples`);
  }
  if (all.some((k) => !((input.weights?.[k] ?? 1) >= 0))) throw new Error('reward combination: weights must be >= 0');
  const names = all.filter((k) => (input.weights?.[k] ?? 1) > 0);
  const w = names.map((k) => input.weights?.[k] ?? 1);
  const wsum = w.reduce((a, b) => a + b, 0);
  if (!(wsum > 0)) throw new Error('reward combination: at least one weight must be positive');
  return { names, w, wsum, n };
}

function perRewardAdvantages(input: CombinationInput): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [k, r] of Object.entries(input.rewards)) out[k] = input.estimator(r, input.groups, input.options);
  return out;
}

/** sum_k w_k x_k / sum_k w_k over the weighted rewards, elementwise (N,). */
function weightedMean(xs: ArrayLike<number>[], w: number[], wsum: number, n: number): Float64Array {
  const out = new Float64Array(n); // (N,)
  xs.forEach((x, j) => {
    for (let i = 0; i < n; i++) out[i] += w[j] * x[i];
  });
  for (let i = 0; i < n; i++) out[i] /= wsum;
  return out;
}

/** Batch z-score with population std; a batch with zero spread gives zeros. */
export function batchZScore(x: ArrayLike<number>, eps: number): Float64Array {
  const n = x.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += x[i];
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
  }
  const out = new Float64Array(n); // (N,)
  if (n === 0 || max === min) return out;
  const mean = sum / n;
  let dev2 = 0;
  for (let i = 0; i < n; i++) dev2 += (x[i] - mean) ** 2;
  const sd = Math.sqrt(dev2 / n);
  for (let i = 0; i < n; i++) out[i] = (x[i] - mean) / (sd + eps);
  return out;
}

export const advantageAverage: RewardCombination = (input) => {
  const { names, w, wsum, n } = weighted(input);
  const perReward = perRewardAdvantages(input);
  return {
    advantages: weightedMean(
      names.map((k) => perReward[k]),
      w,
      wsum,
      n,
    ),
    perReward,
  };
};

export const normalizeThenWeightedSum: RewardCombination = (input) => {
  const { names, w, wsum, n } = weighted(input);
  const z = names.map((k) => batchZScore(input.rewards[k], input.options.eps));
  const combined = weightedMean(z, w, wsum, n);
  return { advantages: input.estimator(combined, input.groups, input.options), perReward: perRewardAdvantages(input) };
};

export const sumThenNormalize: RewardCombination = (input) => {
  const { names, w, wsum, n } = weighted(input);
  const combined = weightedMean(
    names.map((k) => input.rewards[k]),
    w,
    wsum,
    n,
  );
  return { advantages: input.estimator(combined, input.groups, input.options), perReward: perRewardAdvantages(input) };
};

const combinations = createRegistry<RewardCombination>('reward combination');
export const registerRewardCombination = combinations.register;
export const getRewardCombination = combinations.get;
export const hasRewardCombination = combinations.has;
export const rewardCombinationNames = combinations.names;

registerRewardCombination('advantage-average', advantageAverage);
registerRewardCombination('normalize-then-weighted-sum', normalizeThenWeightedSum);
registerRewardCombination('sum-then-normalize', sumThenNormalize);
