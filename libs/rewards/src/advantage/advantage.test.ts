// Vectorised estimators and combinations equal the loop references over random shapes, seeds, group orders
// and uneven group sizes; zero-spread groups give exactly 0; the registries refuse duplicates and list the
// valid names.
import { Rng } from '@lwz/core';
import { advantageAverage, getRewardCombination, registerRewardCombination, rewardCombinationNames } from './combinations';
import {
  type EstimatorOptions,
  advantageEstimatorNames,
  getAdvantageEstimator,
  grpoAdvantages,
  registerAdvantageEstimator,
  rlooAdvantages,
} from './estimators';
import { contiguousGroups, groupIndex } from './groups';
import { type Rows, referenceAdvantages, referenceCombination } from './reference';

/** Random batch: B groups of uneven sizes, samples interleaved in random order; rewards with ties and constant groups. */
function randomBatch(rng: Rng, rewardsPerSample = 1) {
  const b = 1 + rng.int(6);
  const sizes = Array.from({ length: b }, () => 1 + rng.int(7));
  const owners = sizes.flatMap((g, k) => Array.from({ length: g }, () => k));
  rng.shuffle(owners);
  const rewards = Array.from({ length: rewardsPerSample }, () => {
    const constantGroup = rng.int(b);
    const level = rng.next();
    return owners.map((k) => (k === constantGroup ? level : rng.next() < 0.3 ? Math.round(rng.next() * 2) / 2 : rng.normal()));
  });
  const ids = owners.map((k) => `prompt-${k}`);
  return { b, owners, ids, rewards };
}

/** Flat (N,) values -> rows (B, G) by owner, in sample order; and back. */
function toRows(values: ArrayLike<number>, owners: number[], b: number): Rows {
  const rows: Rows = Array.from({ length: b }, () => []);
  owners.forEach((k, i) => rows[k].push(values[i]));
  return rows;
}

const optionSets: EstimatorOptions[] = [
  { std: 'sample', eps: 1e-6 },
  { std: 'population', eps: 1e-6 },
  { std: 'sample', eps: 0.1 },
];

describe('advantage estimators', () => {
  it.each(['grpo', 'dr-grpo', 'rloo'])('%s equals its loop reference over random shapes and seeds', (name) => {
    for (let seed = 0; seed < 60; seed++) {
      const rng = new Rng(seed);
      const { b, owners, ids, rewards } = randomBatch(rng);
      const o = optionSets[seed % optionSets.length];
      const fast = getAdvantageEstimator(name)(rewards[0], groupIndex(ids), o);
      const ref = referenceAdvantages(name, toRows(rewards[0], owners, b), o);
      expect(toRows(fast, owners, b).flat()).toBeAllClose(ref.flat(), { atol: 1e-12, rtol: 1e-10 });
    }
  });

  it('gives exactly 0 to groups with zero spread (including groups of one), whatever the estimator', () => {
    const groups = groupIndex([0, 0, 0, 1, 2, 2]);
    const rewards = [0.1, 0.1, 0.1, 0.7, 0.2, 0.9];
    for (const name of advantageEstimatorNames()) {
      const a = getAdvantageEstimator(name)(rewards, groups, { std: 'sample', eps: 1e-6 });
      expect(Array.from(a.slice(0, 4))).toEqual([0, 0, 0, 0]);
      expect(a[4]).toBeLessThan(0);
      expect(a[5]).toBeGreaterThan(0);
    }
  });

  it('grpo with population std gives each group mean 0 and std ~1; sample std is smaller by sqrt((n-1)/n)', () => {
    const rng = new Rng(9);
    const r = Array.from({ length: 4 * 8 }, () => rng.next());
    const groups = contiguousGroups(4, 8);
    const pop = grpoAdvantages(r, groups, { std: 'population', eps: 0 });
    const sam = grpoAdvantages(r, groups, { std: 'sample', eps: 0 });
    for (let g = 0; g < 4; g++) {
      const a = Array.from(pop.slice(8 * g, 8 * g + 8));
      const mean = a.reduce((x, y) => x + y, 0) / 8;
      expect(mean).toBeCloseTo(0, 12);
      expect(Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / 8)).toBeCloseTo(1, 12);
    }
    expect(Array.from(sam)).toBeAllClose(
      Array.from(pop).map((x) => x * Math.sqrt(7 / 8)),
      { atol: 1e-12 },
    );
  });

  it('rloo equals n/(n-1) times dr-grpo', () => {
    const r = [1, 2, 4, 0, 3];
    const groups = contiguousGroups(1, 5);
    const o = { std: 'sample' as const, eps: 1e-6 };
    expect(Array.from(rlooAdvantages(r, groups, o))).toBeAllClose(
      Array.from(getAdvantageEstimator('dr-grpo')(r, groups, o)).map((x) => (x * 5) / 4),
      { atol: 1e-12 },
    );
  });

  it('checks its inputs', () => {
    expect(() => grpoAdvantages([1, 2], contiguousGroups(1, 3), optionSets[0])).toThrow(/2 rewards but 3 group ids/);
    expect(() => grpoAdvantages([1, NaN], contiguousGroups(1, 2), optionSets[0])).toThrow(/reward 1 is NaN/);
    expect(() => contiguousGroups(2, 0)).toThrow(/bad shape/);
  });
});

describe('reward combinations', () => {
  it.each(['advantage-average', 'normalize-then-weighted-sum', 'sum-then-normalize'])(
    '%s equals its loop reference over random shapes, seeds, weights and estimators',
    (name) => {
      for (let seed = 0; seed < 45; seed++) {
        const rng = new Rng(1000 + seed);
        const { b, owners, ids, rewards } = randomBatch(rng, 3);
        const estimator = advantageEstimatorNames()[seed % 3];
        const o = optionSets[seed % optionSets.length];
        const named = { length: rewards[0], format: rewards[1], quality: rewards[2] };
        const weights =
          seed % 4 === 0
            ? { length: 1, format: 1, quality: 1 }
            : { length: rng.next(), format: 2 * rng.next(), quality: seed % 5 === 0 ? 0 : 1 };
        const fast = getRewardCombination(name)({
          rewards: named,
          weights,
          groups: groupIndex(ids),
          estimator: getAdvantageEstimator(estimator),
          options: o,
        });
        const rows = {
          length: toRows(rewards[0], owners, b),
          format: toRows(rewards[1], owners, b),
          quality: toRows(rewards[2], owners, b),
        };
        const ref = referenceCombination(name, rows, weights, estimator, o, o.eps);
        expect(toRows(fast.advantages, owners, b).flat()).toBeAllClose(ref.flat(), { atol: 1e-12, rtol: 1e-10 });
        expect(Object.keys(fast.perReward)).toEqual(['length', 'format', 'quality']);
      }
    },
  );

  it('advantage-average with equal weights is the plain mean of the per-reward advantages (the paper)', () => {
    const groups = contiguousGroups(2, 3);
    const rewards = { length: [1, 0.5, 0, 1, 1, 1], format: [1, 1, 0, 0.2, 0.9, 0.4], quality: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] };
    const r = advantageAverage({ rewards, groups, estimator: grpoAdvantages, options: optionSets[0] });
    const expected = Array.from({ length: 6 }, (_, i) => (r.perReward.length[i] + r.perReward.format[i] + r.perReward.quality[i]) / 3);
    expect(Array.from(r.advantages)).toBeAllClose(expected, { atol: 1e-15 });
    expect(Array.from(r.perReward.quality)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(r.perReward.length.slice(3))).toEqual([0, 0, 0]);
  });

  it('a reward missing from the weights weighs 1', () => {
    // dr-grpo over one group of 2: length [1, 0] -> [0.5, -0.5], format [0, 1] -> [-0.5, 0.5]; weights 3 and (missing) 1
    const r = advantageAverage({
      rewards: { length: [1, 0], format: [0, 1] },
      weights: { length: 3 },
      groups: contiguousGroups(1, 2),
      estimator: getAdvantageEstimator('dr-grpo'),
      options: optionSets[0],
    });
    expect(Array.from(r.advantages)).toBeAllClose([(3 * 0.5 - 0.5) / 4, (-3 * 0.5 + 0.5) / 4], { atol: 1e-15 });
  });

  it('normalize-then-weighted-sum: a reward constant over the whole batch adds exactly 0, also with eps 0', () => {
    const groups = contiguousGroups(2, 2);
    const rewards = { length: [1, 0, 1, 0], format: [0.3, 0.3, 0.3, 0.3] };
    const r = getRewardCombination('normalize-then-weighted-sum')({
      rewards,
      groups,
      estimator: grpoAdvantages,
      options: { std: 'sample', eps: 0 },
    });
    // length: batch mean 0.5, population std 0.5, z = +-1; format: z = 0; combined (z_length + z_format) / 2 = +-0.5;
    // each group [0.5, -0.5] has mean 0 and sample std sqrt(0.5): A = +-0.5 / sqrt(0.5) = +-1 / sqrt(2)
    expect(Array.from(r.advantages)).toBeAllClose(
      [1, -1, 1, -1].map((x) => x / Math.SQRT2),
      { atol: 1e-12 },
    );
  });

  it('refuses bad weights and mismatched rewards', () => {
    const groups = contiguousGroups(1, 2);
    const base = { groups, estimator: grpoAdvantages, options: optionSets[0] };
    expect(() => advantageAverage({ ...base, rewards: { length: [1, 0] }, weights: { lenght: 1 } })).toThrow(/unknown reward\(s\) lenght/);
    expect(() => advantageAverage({ ...base, rewards: { length: [1, 0] }, weights: { length: 0 } })).toThrow(/at least one weight/);
    expect(() => advantageAverage({ ...base, rewards: { length: [1, 0] }, weights: { length: -1 } })).toThrow(/>= 0/);
    expect(() => advantageAverage({ ...base, rewards: { length: [1, 0] }, weights: { length: NaN } })).toThrow(/>= 0/);
    expect(() => advantageAverage({ ...base, rewards: { length: [1, 0, 1] } })).toThrow(/3 values for 2 samples/);
    expect(() => advantageAverage({ ...base, rewards: {} })).toThrow(/no rewards/);
  });
});

describe('registries', () => {
  it('refuse duplicate names and list the valid ones for unknown names', () => {
    expect(() => registerAdvantageEstimator('grpo', grpoAdvantages)).toThrow(/advantage estimator "grpo" is already registered/);
    expect(() => getAdvantageEstimator('ppo')).toThrow(/unknown advantage estimator "ppo" \(valid: grpo, dr-grpo, rloo\)/);
    expect(() => registerRewardCombination('advantage-average', advantageAverage)).toThrow(/already registered/);
    expect(() => getRewardCombination('max')).toThrow(/valid: advantage-average, normalize-then-weighted-sum, sum-then-normalize/);
    expect(rewardCombinationNames()).toHaveLength(3);
  });
});
