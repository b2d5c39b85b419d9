// ref sampling's pruned ranking (sort only the prefix that can hold kept tokens) against a plain full-sort
// implementation of the same rule, on random rows with masked tokens, several temperatures / top-k / top-p.
// Logits are continuous, so exact-equality top-p boundaries (decided by rounding) do not arise.
import { Rng } from '@lwz/core';
import { availableDevices, sample, tensor } from './index';
import { rankedPrefixLength, sampleArrays, type SampleOptions } from './ref/sample';

/** The rule of kernel-signatures.ts sampleForward, written the obvious way: full sort, then filter. */
function fullSortSample(logits: Float32Array, u: number, o: SampleOptions): number {
  const scaled = Array.from(logits, (x) => x / o.temperature);
  const max = Math.max(...scaled);
  const e = scaled.map((x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / z);
  const order = p.map((_, j) => j).sort((a, b) => p[b] - p[a] || a - b);
  const topK = order.slice(0, o.topK > 0 ? o.topK : p.length);
  const massK = topK.reduce((a, j) => a + p[j], 0);
  const kept: number[] = [];
  let mass = 0;
  for (const j of topK) {
    kept.push(j);
    mass += p[j];
    if (o.topP < 1 && mass >= o.topP * massK) break;
  }
  kept.sort((a, b) => a - b);
  let run = 0;
  for (const j of kept) {
    run += p[j];
    if (run > u * mass) return j;
  }
  return kept[kept.length - 1];
}

describe('ref sampling vs a full-sort implementation of the same rule', () => {
  it('agrees on 400 random rows', () => {
    const rng = new Rng(77);
    const ids = new Int32Array(1);
    for (let trial = 0; trial < 400; trial++) {
      const v = 1 + rng.int(200);
      const spread = [0.1, 1, 4, 15][rng.int(4)];
      const logits = Float32Array.from({ length: v }, (_, j) => (j > 0 && rng.next() < 0.1 ? -Infinity : rng.normal() * spread));
      const o = { temperature: [0.5, 1, 1.7][rng.int(3)], topK: [0, 1, 5, 50, 400][rng.int(5)], topP: [1, 0.9, 0.5][rng.int(3)] };
      const u = rng.next();
      sampleArrays(logits, [u], ids, 1, v, o);
      expect({ trial, id: ids[0] }).toEqual({ trial, id: fullSortSample(logits, u, o) });
    }
  });
});

describe('rows the rule cannot sample', () => {
  // the first row's maximum is +inf, the second holds a NaN; cuda's argmax skips NaNs as the ref does (a thread that
  // took a NaN first once hid the rest of its stride), unchecked on a GPU since
  const rows = [0.2, Infinity, 3, 0, 1, NaN, 4, 2];
  it.each(availableDevices())('%s: a row with no finite maximum or a NaN logit is greedy', (device) => {
    const x = tensor(rows, [2, 4], { device });
    for (const o of [{}, { topP: 0.5 }, { topK: 2 }, { temperature: 0.7 }]) {
      for (const u of [0, 0.5, 0.99]) expect(Array.from(sample(x, [u, u], o).toHost())).toEqual([1, 2]); // argmax; NaN compares false
    }
  });
});

describe('a uniform at the top of [0, 1)', () => {
  // found by a review: 1 - 2^-30 rounds to 1.0 in f32, the running sum never exceeded u * mass, and the kernel
  // returned the last id of the row whatever its weight (a padded id past the tokenizer: the engine then failed)
  const logits = [5, 4, 3, -Infinity, -Infinity]; // ids 3 and 4 masked, as the vocabulary limit and min-p do
  it.each(availableDevices())('%s: never returns an id of weight 0, from a number or an f32 tensor of exactly 1', (device) => {
    const x = tensor(logits, [1, 5], { device });
    for (const o of [{}, { temperature: 0.7 }, { topK: 4 }, { topP: 0.999999 }]) {
      expect(sample(x, [1 - 2 ** -30], o).toHost()[0]).toBe(2);
      expect(sample(x, tensor(Float32Array.of(1), [1], { device }), o).toHost()[0]).toBe(2);
      expect(sample(x, [0.999], o).toHost()[0]).toBeLessThan(3);
    }
  });
});

describe('ref sampling: the ranked prefix', () => {
  it('stops at the ids of positive weight when top-k asks for more (min-p left fewer than k)', () => {
    // 14 ids of positive weight in a row of 5,000, the rest 0 (what min-p or a -inf mask leaves): the threshold used
    // to walk down to 0 for k = 50 (~330 passes) and rank the whole row
    const p = new Float64Array(5000);
    for (let j = 0; j < 14; j++) p[j * 300] = 2 ** -j;
    expect(rankedPrefixLength(p, 50, 0)).toBe(14);
    expect(rankedPrefixLength(p, 14, 0)).toBe(14);
    const few = rankedPrefixLength(p, 4, 0);
    expect(few).toBeGreaterThanOrEqual(4);
    expect(few).toBeLessThan(14);
  });
});
