// Conformance of the softmax family, chosen-token log-probs, entropy, AdamW, the global norm and
// sampling against `ref`: one row, odd vocab sizes, large logits, masked rows. Sampled ids must match
// exactly (same uniforms, same rule). Tolerances: TOLERANCES in testing/conformance-harness.ts.
import { Rng } from '@lwz/core';
import { adamwStep, entropy, globalNorm, logSoftmax, sample, scale, softmax, tensor, tokenLogprobs, tokenLogprobsBackward } from './index';
import { describeConformance, host, ints, randn, type ConformanceCase } from './testing/conformance-harness';

function uniforms(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

const cases: ConformanceCase[] = [
  ...[
    [1, 1],
    [5, 1000],
    [3, 7],
  ].map(
    ([n, v]): ConformanceCase => ({
      name: `softmax and logSoftmax (${n}, ${v}), logits scaled by 30`,
      kernels: ['softmaxForward'],
      tol: 'exp',
      run: (dev, rng) => {
        const x = randn(rng, [n, v], dev, 30);
        return host(softmax(x), logSoftmax(x));
      },
    }),
  ),
  ...[
    [1, 3],
    [6, 501],
  ].map(
    ([n, v]): ConformanceCase => ({
      name: `tokenLogprobs forward and backward (${n}, ${v}), a masked row, backward in place`,
      kernels: ['tokenLogprobsForward', 'tokenLogprobsBackward'],
      tol: 'logprobs',
      run: (dev, rng) => {
        const logits = randn(rng, [n, v], dev, 4);
        const targets = ints(
          Array.from({ length: n }, (_, i) => (i === 1 ? -1 : rng.int(v))),
          [n],
          dev,
        );
        const { logprobs, lse } = tokenLogprobs(logits, targets);
        const dLogprobs = randn(rng, [n], dev);
        const dLogits = tokenLogprobsBackward(dLogprobs, logits, targets, lse);
        const inPlace = tokenLogprobsBackward(dLogprobs, logits, targets, lse, { inPlace: true });
        return host(logprobs, lse, dLogits, inPlace);
      },
    }),
  ),
  {
    // a NaN logit poisons its row everywhere, as in the ref, wherever it sits in the row: found by a review of the
    // cuda reductions, which dropped a NaN seen before a thread's first finite value
    name: 'rows holding a NaN: softmax, logSoftmax, tokenLogprobs and entropy give NaN as the ref does',
    kernels: ['softmaxForward', 'tokenLogprobsForward', 'entropyForward'],
    tol: 'logprobs',
    run: (dev) => {
      const v = 301;
      const rows = [
        [1, NaN, 2, ...Array<number>(v - 3).fill(0)],
        [NaN, ...Array<number>(v - 1).fill(0)],
        [...Array<number>(v - 1).fill(0), NaN],
        [-Infinity, NaN, ...Array<number>(v - 2).fill(-1)],
        // NaN among masked values only: the ref's max skipped it and said -inf
        [-Infinity, NaN, ...Array<number>(v - 2).fill(-Infinity)],
      ];
      const x = tensor(rows.flat(), [rows.length, v], { device: dev });
      const { logprobs, lse } = tokenLogprobs(x, ints([1, 1, 1, 2, 2], [rows.length], dev));
      return host(softmax(x), logSoftmax(x), logprobs, lse, entropy(x));
    },
  },
  {
    name: 'entropy (1, 2), (4, 333) and a peaked row',
    kernels: ['entropyForward'],
    tol: 'logprobs',
    run: (dev, rng) => {
      const peaked = tensor([50, 0, 0, -50], [1, 4], { device: dev });
      return host(entropy(randn(rng, [1, 2], dev)), entropy(randn(rng, [4, 333], dev, 3)), entropy(peaked));
    },
  },
  {
    name: 'adamwStep: three steps on 1031 weights',
    kernels: ['adamwStep'],
    tol: 'adamw',
    run: (dev, rng) => {
      const p = randn(rng, [1031], dev);
      const m = randn(rng, [1031], dev, 0.01);
      const v = tensor(
        Float32Array.from({ length: 1031 }, () => rng.next() * 1e-3),
        [1031],
        { device: dev },
      );
      for (let step = 1; step <= 3; step++) {
        adamwStep(p, randn(rng, [1031], dev), m, v, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step });
      }
      return host(p, m, v);
    },
  },
  {
    name: 'globalNorm over three tensors, then each scaled in place (the clipping step)',
    kernels: ['sumSquares', 'scaleForward'],
    tol: 'reduce',
    run: (dev, rng) => {
      const ts = [randn(rng, [1], dev), randn(rng, [17, 3], dev), randn(rng, [1000], dev)];
      const before = globalNorm(ts);
      for (const t of ts) scale(t, 5 / before, { out: t });
      return [[before, globalNorm(ts)], ...host(...ts)];
    },
  },
  ...[
    { temperature: 0 },
    { temperature: 1 },
    { temperature: 0.8, topP: 0.9 },
    { temperature: 1.3, topK: 20 },
    { temperature: 0.7, topK: 50, topP: 0.5 },
  ].map(
    (o): ConformanceCase => ({
      name: `sample ${JSON.stringify(o)} on (9, 301) and one row`,
      kernels: ['sampleForward'],
      tol: 'exact',
      run: (dev, rng) => {
        const logits = randn(rng, [9, 301], dev, 2);
        const one = randn(rng, [1, 5], dev);
        return host(sample(logits, uniforms(rng, 9), o), sample(one, uniforms(rng, 1), o));
      },
    }),
  ),
  ...[{ temperature: 1 }, { temperature: 0.8, topP: 0.95 }].map(
    (o): ConformanceCase => ({
      name: `sample ${JSON.stringify(o)} at the tokenizer's vocabulary, (32, 4096)`,
      kernels: ['sampleForward'],
      tol: 'exact',
      run: (dev, rng) => host(sample(randn(rng, [32, 4096], dev, 3), uniforms(rng, 32), o)),
    }),
  ),
  // top-p 0.9 at t 0.8: tens of thousands of candidates, which the cpu narrows before ranking them
  ...[{ temperature: 1 }, { temperature: 0.7, topK: 50 }, { temperature: 0.8, topP: 0.9 }].map(
    (o): ConformanceCase => ({
      name: `sample ${JSON.stringify(o)} at Qwen2's vocabulary, (4, 151936)`,
      kernels: ['sampleForward'],
      tol: 'exact',
      run: (dev, rng) => host(sample(randn(rng, [4, 151936], dev, 3), uniforms(rng, 4), o)),
    }),
  ),
  {
    // logits on a grid of 1/4: thousands of ids tie at each weight, and the cpu's ranking (a radix sort on the weights
    // over tens of thousands of candidates) must put lower ids first within a tie, as ref's comparison does
    name: 'sample top-p 0.5 and 0.9 at t 0.8 with tied logits, (3, 151936)',
    kernels: ['sampleForward'],
    tol: 'exact',
    run: (dev, rng) => {
      const x = randn(rng, [3, 151936], dev, 3)
        .toHost()
        .map((a) => Math.round(a * 4) / 4);
      const logits = tensor(x, [3, 151936], { device: dev });
      return host(
        sample(logits, uniforms(rng, 3), { temperature: 0.8, topP: 0.5 }),
        sample(logits, uniforms(rng, 3), { temperature: 0.8, topP: 0.9 }),
      );
    },
  },
  {
    // x / t - max down to about -1500: weights below e^-708 (subnormal, or 0) come from the cpu's scalar exponential,
    // the rest from its vectorised one, and a -inf logit weighs 0 (never drawn)
    name: 'sample at temperature 0.01 with logits 7-8 below the rest, and -inf, (8, 2000)',
    kernels: ['sampleForward'],
    tol: 'exact',
    run: (dev, rng) => {
      const x = randn(rng, [8, 2000], dev, 0.5).toHost();
      for (let i = 0; i < x.length; i += 7) x[i] -= 7 + (i % 5) * 0.3; // x / t - max from -700 to -1170
      for (let i = 3; i < x.length; i += 101) x[i] = -Infinity;
      const logits = tensor(x, [8, 2000], { device: dev });
      return host(
        sample(logits, uniforms(rng, 8), { temperature: 0.01 }),
        sample(logits, uniforms(rng, 8), { temperature: 0.01, topK: 3 }),
      );
    },
  },
];

describeConformance('softmax, logprobs, optimizer, sampling', cases, 999);
