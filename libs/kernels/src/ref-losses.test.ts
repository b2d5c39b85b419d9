// Row-wise ops, optimizer ops and sampling on `ref` against formulas written out here (softmax, chosen-token
// log-probs, entropy), a hand-computed two-step AdamW example, the global norm, and sampling
// frequencies under a deterministic grid of uniforms. Tolerances: atol 1e-6 rtol 1e-5 unless stated.
import { Rng } from '@lwz/core';
import {
  add,
  adamwStep,
  axpy,
  embedding,
  entropy,
  globalNorm,
  logSoftmax,
  mul,
  sample,
  scale,
  softmax,
  sumRows,
  tensor,
  tokenLogprobs,
  zeros,
} from './index';
import { randomF32 } from './testing/numeric';

const ref = { device: 'ref' as const };
const tol = { atol: 1e-6, rtol: 1e-5 };
const ids = (a: number[], shape = [a.length]) => tensor(Int32Array.from(a), shape, ref);

function directLogSoftmax(row: ArrayLike<number>): number[] {
  const z = Array.from(row).reduce((s, x) => s + Math.exp(x), 0);
  return Array.from(row, (x) => x - Math.log(z));
}

describe('softmax family', () => {
  it('softmax / logSoftmax match exp(x)/sum exp(x) and stay finite for large logits', () => {
    const rows = [
      [1, 2, 3, -4, 0.5],
      [0, 0, 0, 0, 0],
      [1000, 1001, 999, 1000.5, 998],
    ];
    const x = tensor(rows.flat(), [3, 5], ref);
    const shifted = rows.map((r) => r.map((v) => v - Math.max(...r))); // same softmax, safe to exp
    const want = shifted.flatMap(directLogSoftmax);
    expect(logSoftmax(x).toHost()).toBeAllClose(want, tol);
    expect(softmax(x).toHost()).toBeAllClose(want.map(Math.exp), tol);
  });

  it('tokenLogprobs gathers log-softmax at the target; masked rows give 0; out-of-range targets throw', () => {
    const rng = new Rng(21);
    const logits = randomF32(rng, 4 * 6, 3);
    const targets = [5, -1, 0, 2];
    const { logprobs, lse } = tokenLogprobs(tensor(logits, [4, 6], ref), ids(targets));
    const want = targets.map((t, r) => (t < 0 ? 0 : directLogSoftmax(logits.subarray(r * 6, r * 6 + 6))[t]));
    expect(logprobs.toHost()).toBeAllClose(want, tol);
    const wantLse = [0, 1, 2, 3].map((r) => Math.log(Array.from(logits.subarray(r * 6, r * 6 + 6)).reduce((s, x) => s + Math.exp(x), 0)));
    expect(lse.toHost()).toBeAllClose(wantLse, tol);
    expect(() => tokenLogprobs(tensor(logits, [4, 6], ref), ids([6, 0, 0, 0]))).toThrow(/target 6 in row 0/);
    expect(() => tokenLogprobs(tensor(logits, [4, 6], ref), ids([1, 2]))).toThrow(/tokenLogprobs: targets has shape \[2\]/);
  });

  it('entropy: log V for a uniform row, 0 for a one-hot row, -sum p log p otherwise', () => {
    const row = [0.2, -1, 3, 0.7];
    const p = directLogSoftmax(row).map(Math.exp);
    const x = tensor([0, 0, 0, 0, 0, -Infinity, -Infinity, -Infinity, ...row], [3, 4], ref);
    const want = [Math.log(4), 0, -p.reduce((s, q) => s + q * Math.log(q), 0)];
    expect(entropy(x).toHost()).toBeAllClose(want, tol);
  });
});

describe('elementwise, reductions, embedding', () => {
  it('add / mul broadcast a suffix, scale, axpy in place, sumRows accumulates', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], ref);
    const bias = tensor([10, 20, 30], [3], ref);
    expect(Array.from(add(a, bias).toHost())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(mul(a, bias).toHost())).toEqual([10, 40, 90, 40, 100, 180]);
    expect(Array.from(scale(a, -0.5).toHost())).toEqual([-0.5, -1, -1.5, -2, -2.5, -3]);
    const acc = tensor([1, 1, 1, 1, 1, 1], [2, 3], ref);
    expect(axpy(acc, 2, a)).toBe(acc);
    expect(Array.from(acc.toHost())).toEqual([3, 5, 7, 9, 11, 13]);
    const colSums = tensor([100, 0, 0], [3], ref);
    sumRows(a, { out: colSums, accumulate: true });
    expect(Array.from(colSums.toHost())).toEqual([105, 7, 9]);
    expect(() => add(a, tensor([1, 2, 3, 4], [4], ref))).toThrow(/add: b \[4\] neither matches nor suffix-broadcasts to a \[2, 3\]/);
    expect(() => mul(a, tensor([1, 2], [2], ref))).toThrow(/mul: b \[2\] is not a suffix of a \[2, 3\]/);
  });

  it('embedding gathers rows into (..., C) and names an out-of-range id', () => {
    const table = tensor([0, 1, 10, 11, 20, 21], [3, 2], ref);
    const out = embedding(table, ids([2, 0, 2, 1], [2, 2]));
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.toHost())).toEqual([20, 21, 0, 1, 20, 21, 10, 11]);
    expect(() => embedding(table, ids([0, 3]))).toThrow(/embedding: id 3 at position 1 is outside the vocabulary \[0, 3\)/);
  });
});

describe('optimizer ops', () => {
  it('adamwStep: two steps on one weight, worked by hand', () => {
    // lr 0.1, b1 0.9, b2 0.999, eps 1e-8, wd 0.1, p0 = 1.
    // step 1, g = 0.5: m = 0.05, v = 2.5e-4, mhat = 0.5, vhat = 0.25, p = 1 - 0.1 (0.5 / (0.5 + 1e-8) + 0.1) = 0.890000002
    // step 2, g = -0.25: m = 0.045 - 0.025 = 0.02, v = 2.4975e-4 + 6.25e-5 = 3.1225e-4,
    //   mhat = 0.02 / 0.19 = 0.1052631579, vhat = 3.1225e-4 / 0.001999 = 0.1562031016, sqrt = 0.3952253808,
    //   p = 0.890000002 - 0.1 (0.2663369 + 0.0890000002) = 0.8544662987
    const [p, g, m, v] = [[1], [0.5], [0], [0]].map((x) => tensor(x, [1], ref));
    const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    adamwStep(p, g, m, v, { ...hp, step: 1 });
    expect(p.toHost()).toBeAllClose([0.890000002], { atol: 1e-7, rtol: 0 });
    g.f32[0] = -0.25;
    adamwStep(p, g, m, v, { ...hp, step: 2 });
    expect(m.toHost()).toBeAllClose([0.02], tol);
    expect(v.toHost()).toBeAllClose([3.1225e-4], tol);
    expect(p.toHost()).toBeAllClose([0.8544662987], { atol: 1e-7, rtol: 0 });
    expect(() => adamwStep(p, g, m, v, { ...hp, step: 0 })).toThrow(/adamwStep: step must be an integer >= 1/);
  });

  it('adamwStep has no hyper-parameter defaults of its own: a missing one is an error (DEFAULT_ADAMW in libs/optimizer is the source)', () => {
    const [p, g, m, v] = [[1], [0.5], [0], [0]].map((x) => tensor(x, [1], ref));
    const partial = { lr: 0.1, eps: 1e-8, weightDecay: 0.1, step: 1 } as unknown as Parameters<typeof adamwStep>[4];
    expect(() => adamwStep(p, g, m, v, partial)).toThrow(/adamwStep: beta1 must be a finite number, got undefined/);
    expect(Array.from(p.toHost())).toEqual([1]);
  });

  it('globalNorm over tensors of any shape, float64 accumulation', () => {
    const a = tensor([3, 4], [2], ref);
    const b = tensor([12], [1], ref);
    expect(globalNorm([a, b])).toBe(13);
    expect(globalNorm([])).toBe(0);
  });
});

describe('sample', () => {
  const probs = [0.5, 0.1, 0.3, 0.1];
  const logits = tensor(probs.map(Math.log), [1, 4], ref);
  const M = 2000;

  /** Frequencies of each id over the uniforms (i + 0.5) / M: a quadrature of the kept distribution. */
  function freqs(opts: { temperature?: number; topK?: number; topP?: number }): number[] {
    const rows = zeros([M, 4], ref);
    for (let i = 0; i < M; i++) rows.f32.set(logits.f32, i * 4);
    const u = Array.from({ length: M }, (_, i) => (i + 0.5) / M);
    const counts = [0, 0, 0, 0];
    for (const id of sample(rows, u, opts).toHost()) counts[id]++;
    return counts.map((c) => c / M);
  }

  it('temperature 0 and topK 1 are greedy (lowest index on ties)', () => {
    const x = tensor([0, 2, 2, 1, 5, 5, 5, 5], [2, 4], ref);
    expect(Array.from(sample(x, [0.9, 0.9], { temperature: 0 }).toHost())).toEqual([1, 0]);
    expect(Array.from(sample(x, [0.9, 0.9], { topK: 1 }).toHost())).toEqual([1, 0]);
  });

  it('frequencies follow the renormalised kept probabilities', () => {
    const q = 1 / M;
    expect(freqs({})).toBeAllClose(probs, { atol: q, rtol: 0 });
    // top-k 3 keeps {0, 2, 1}: token 1 beats token 3 on the index tie-break
    expect(freqs({ topK: 3 })).toBeAllClose([0.5 / 0.9, 0.1 / 0.9, 0.3 / 0.9, 0], { atol: q, rtol: 0 });
    // top-p 0.75 keeps the shortest prefix with mass >= 0.75: {0, 2}
    expect(freqs({ topP: 0.75 })).toBeAllClose([0.5 / 0.8, 0, 0.3 / 0.8, 0], { atol: q, rtol: 0 });
    // top-k 3 then top-p 0.5 of the renormalised {0.556, 0.111, 0.333}: {0} alone
    expect(freqs({ topK: 3, topP: 0.5 })).toEqual([1, 0, 0, 0]);
    // temperature 2: p^(1/2) renormalised
    const root = probs.map(Math.sqrt);
    const z = root.reduce((s, x) => s + x, 0);
    expect(freqs({ temperature: 2 })).toBeAllClose(
      root.map((r) => r / z),
      { atol: q, rtol: 0 },
    );
  });

  it('walks kept tokens in index order: u just below 0.5 / 0.8 picks 0, just above picks 2', () => {
    const two = tensor([...logits.f32, ...logits.f32], [2, 4], ref);
    expect(Array.from(sample(two, [0.62, 0.63], { topP: 0.75 }).toHost())).toEqual([0, 2]);
    expect(() => sample(two, [0.5], {})).toThrow(/sample: uniforms has shape \[1\], expected \[2\]/);
  });
});
