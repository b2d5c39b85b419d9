// Advantage estimators: one reward per sample (N = B*G,) and its group layout -> one advantage per sample
// (N,). Vectorised as segment reductions over the flat array (per-group sums, then one gather); the loop
// reference over (B, G) rows in reference.ts is what tests hold these to. Registered by name (registry.ts).
//   grpo:    A_i = (r_i - mean_g) / (std_g + eps)           (DeepSeekMath GRPO; the paper's estimator)
//   dr-grpo: A_i = r_i - mean_g                              (Dr. GRPO: no std division)
//   rloo:    A_i = r_i - (sum_g - r_i) / (n_g - 1)           (leave-one-out baseline) = n/(n-1) (r_i - mean_g)
// A group whose rewards are all equal (zero spread, including groups of one) gives exactly 0 to each sample.
// std: 'sample' (ddof 1, as torch.std in verl/TRL, default) or 'population' (ddof 0); eps default 1e-6.
import { createRegistry } from '@lwz/core';
import type { GroupIndex } from './groups';

export interface EstimatorOptions {
  std: 'sample' | 'population';
  eps: number;
}

export const DEFAULT_ESTIMATOR_OPTIONS: EstimatorOptions = { std: 'sample', eps: 1e-6 };

/** rewards (N,), groups over N -> advantages (N,). */
export type AdvantageEstimator = (rewards: ArrayLike<number>, groups: GroupIndex, options: EstimatorOptions) => Float64Array;

export interface GroupStats {
  /** (K,) each */
  mean: Float64Array;
  sum: Float64Array;
  std: Float64Array;
  /** 1 where max == min within the group */
  zeroSpread: Uint8Array;
}

/** Per-group mean, sum, std (ddof by options.std) and zero-spread flags, by segment reductions. */
export function groupStats(rewards: ArrayLike<number>, groups: GroupIndex, std: EstimatorOptions['std']): GroupStats {
  const n = rewards.length;
  if (groups.ids.length !== n) throw new Error(`advantage: ${n} rewards but ${groups.ids.length} group ids`);
  const k = groups.count;
  const sum = new Float64Array(k); // (K,)
  const min = new Float64Array(k).fill(Infinity); // (K,)
  const max = new Float64Array(k).fill(-Infinity); // (K,)
  for (let i = 0; i < n; i++) {
    const g = groups.ids[i];
    const r = rewards[i];
    if (!Number.isFinite(r)) throw new Error(`advantage: reward ${i} is ${r}; rewards must be finite`);
    sum[g] += r;
    if (r < min[g]) min[g] = r;
    if (r > max[g]) max[g] = r;
  }
  const mean = new Float64Array(k); // (K,)
  for (let g = 0; g < k; g++) mean[g] = sum[g] / groups.sizes[g];
  const dev2 = new Float64Array(k); // (K,)
  for (let i = 0; i < n; i++) {
    const d = rewards[i] - mean[groups.ids[i]];
    dev2[groups.ids[i]] += d * d;
  }
  const ddof = std === 'sample' ? 1 : 0;
  const sd = new Float64Array(k); // (K,)
  const zeroSpread = new Uint8Array(k); // (K,)
  for (let g = 0; g < k; g++) {
    zeroSpread[g] = max[g] === min[g] ? 1 : 0;
    sd[g] = zeroSpread[g] ? 0 : Math.sqrt(dev2[g] / (groups.sizes[g] - ddof));
  }
  return { mean, sum, std: sd, zeroSpread };
}

function perSample(rewards: ArrayLike<number>, groups: GroupIndex, stats: GroupStats, f: (r: number, g: number) => number): Float64Array {
  const out = new Float64Array(rewards.length); // (N,)
  for (let i = 0; i < rewards.length; i++) {
    const g = groups.ids[i];
    out[i] = stats.zeroSpread[g] ? 0 : f(rewards[i], g);
  }
  return out;
}

export const grpoAdvantages: AdvantageEstimator = (rewards, groups, o) => {
  const s = groupStats(rewards, groups, o.std);
  return perSample(rewards, groups, s, (r, g) => (r - s.mean[g]) / (s.std[g] + o.eps));
};

export const drGrpoAdvantages: AdvantageEstimator = (rewards, groups, o) => {
  const s = groupStats(rewards, groups, o.std);
  return perSample(rewards, groups, s, (r, g) => r - s.mean[g]);
};

export const rlooAdvantages: AdvantageEstimator = (rewards, groups, o) => {
  const s = groupStats(rewards, groups, o.std);
  return perSample(rewards, groups, s, (r, g) => r - (s.sum[g] - r) / (groups.sizes[g] - 1));
};

const estimators = createRegistry<AdvantageEstimator>('advantage estimator');
export const registerAdvantageEstimator = estimators.register;
export const getAdvantageEstimator = estimators.get;
export const hasAdvantageEstimator = estimators.has;
export const advantageEstimatorNames = estimators.names;

registerAdvantageEstimator('grpo', grpoAdvantages);
registerAdvantageEstimator('dr-grpo', drGrpoAdvantages);
registerAdvantageEstimator('rloo', rlooAdvantages);
