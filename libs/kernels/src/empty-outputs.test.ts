// Outputs an op allocates with `empty` (no zero-fill; ops/checks.ts outputOr's `whole`) are written whole by
// every cpu kernel path, edge cases included: a GEMM of depth 0, GEMVs, batched and transposed GEMMs, masked
// attention rows (prefix and padding: rows that see no key), ignored targets, broadcast adds. Each case first
// leaves poisoned buffers of its output sizes in the host pool (jest.poison.ts: buffers given back are filled with
// NaN or -2^31), so a value a kernel skips reads as NaN where ref has a number. Tolerances: TOLERANCES (f32).
import { Rng } from '@lwz/core';
import {
  add,
  attention,
  attentionBackward,
  availableDevices,
  copy,
  empty,
  embedding,
  entropy,
  logSoftmax,
  matmul,
  mul,
  rmsnorm,
  rmsnormBackward,
  softmax,
  swiglu,
  swigluBackward,
  tokenLogprobs,
  tokenLogprobsBackward,
  zeros,
  type Device,
  type Tensor,
} from './index';
import { TOLERANCES, ints, randn, type ToleranceKey } from './testing/conformance-harness';

const POISONED = process.env.LWZ_HOST_POOL_POISON === '1';

/** Leave a poisoned free buffer of each size in the pool (newest first: the next allocation of that size takes it). */
function prime(sizes: readonly number[], dtype: 'f32' | 'i32' = 'f32'): void {
  for (const n of sizes) zeros([n], { device: 'cpu', dtype }).dispose();
}

interface Case {
  name: string;
  tol: ToleranceKey;
  /** sizes (values) of the outputs the op allocates, f32 */
  outputs: number[];
  run: (dev: Device, rng: Rng) => Tensor[];
}

const cases: Case[] = [
  ...(
    [
      [7, 13, 5, false, false],
      [1, 64, 300, false, false], // a GEMV
      [300, 64, 1, false, true], // the other GEMV
      [65, 31, 17, true, false],
      [33, 70, 129, true, true],
      [5, 0, 7, false, false], // depth 0: C = 0
      [130, 120, 140, false, true], // threaded (over 2 M multiply-adds)
    ] as const
  ).map(
    ([m, k, n, ta, tb]): Case => ({
      name: `matmul ${m} x ${k} x ${n} (transA ${ta}, transB ${tb})`,
      tol: 'matmul',
      outputs: [m * n],
      // inputs of scale 0.5: float32 sums over depth 120 stay within the matmul tolerance's atol
      run: (dev, rng) => [
        matmul(randn(rng, ta ? [k, m] : [m, k], dev, 0.5), randn(rng, tb ? [n, k] : [k, n], dev, 0.5), { transA: ta, transB: tb }),
      ],
    }),
  ),
  {
    name: 'batched matmul (3 x 9 x 20 x 11), shared and batched b',
    tol: 'matmul',
    outputs: [3 * 9 * 11, 3 * 9 * 11],
    run: (dev, rng) => {
      const a = randn(rng, [3, 9, 20], dev);
      return [matmul(a, randn(rng, [20, 11], dev)), matmul(a, randn(rng, [3, 20, 11], dev))];
    },
  },
  {
    name: 'add and mul with suffix broadcast; copy into an empty destination',
    tol: 'elementwise',
    outputs: [37 * 19, 37 * 19, 37 * 19],
    run: (dev, rng) => {
      const a = randn(rng, [37, 19], dev);
      return [add(a, randn(rng, [19], dev)), mul(a, randn(rng, [37, 19], dev)), copy(a, empty([37, 19], { device: dev }))];
    },
  },
  {
    name: 'embedding gather',
    tol: 'exact',
    outputs: [6 * 40],
    run: (dev, rng) => [embedding(randn(rng, [11, 40], dev), ints([3, 0, 10, 3, 7, 1], [6], dev))],
  },
  {
    name: 'rmsnorm forward (y, rstd) and backward (dx)',
    tol: 'norm',
    outputs: [29 * 96, 29, 29 * 96],
    run: (dev, rng) => {
      const x = randn(rng, [29, 96], dev);
      const w = randn(rng, [96], dev);
      const { y, rstd } = rmsnorm(x, w, 1e-6);
      const { dx } = rmsnormBackward(randn(rng, [29, 96], dev), x, w, rstd, zeros([96], { device: dev }));
      return [y, rstd, dx];
    },
  },
  {
    name: 'swiglu forward and backward',
    tol: 'elementwise',
    outputs: [23 * 70, 23 * 70, 23 * 70],
    run: (dev, rng) => {
      const g = randn(rng, [23, 70], dev);
      const u = randn(rng, [23, 70], dev);
      const { dGate, dUp } = swigluBackward(randn(rng, [23, 70], dev), g, u);
      return [swiglu(g, u), dGate, dUp];
    },
  },
  {
    name: 'softmax, log-softmax, entropy',
    tol: 'exp',
    outputs: [9 * 300, 9 * 300, 9],
    run: (dev, rng) => {
      const x = randn(rng, [9, 300], dev, 3);
      return [softmax(x), logSoftmax(x), entropy(x)];
    },
  },
  {
    name: 'token log-probs (ignored targets included) and their backward into a fresh dLogits',
    tol: 'logprobs',
    outputs: [8, 8, 8 * 500],
    run: (dev, rng) => {
      const logits = randn(rng, [8, 500], dev, 2);
      const targets = ints([4, -1, 499, 0, -1, 17, 250, 3], [8], dev);
      const { logprobs, lse } = tokenLogprobs(logits, targets);
      const d = tokenLogprobsBackward(randn(rng, [8], dev), logits, targets, lse);
      return [logprobs, lse, d];
    },
  },
  {
    name: 'attention forward and backward: causal, a prefix offset, rows that see no key (kvStart past them)',
    tol: 'attentionBackward',
    outputs: [2 * 70 * 4 * 16, 2 * 4 * 70, 2 * 70 * 4 * 16, 2 * 70 * 2 * 16, 2 * 70 * 2 * 16],
    run: (dev, rng) => {
      const [B, T, H, Hkv, D] = [2, 70, 4, 2, 16];
      const q = randn(rng, [B, T, H, D], dev);
      const k = randn(rng, [B, T, Hkv, D], dev);
      const v = randn(rng, [B, T, Hkv, D], dev);
      const opts = { qOffset: [0, 0], kvStart: [0, 40] };
      const { out, lse } = attention(q, k, v, opts);
      const { dq, dk, dv } = attentionBackward(q, k, v, out, lse, randn(rng, [B, T, H, D], dev), opts);
      return [out, lse, dq, dk, dv];
    },
  },
];

const onCpu = availableDevices().includes('cpu') ? describe : describe.skip;

onCpu('empty outputs on cpu: written whole over poisoned recycled buffers', () => {
  it('the pool is poisoned in tests, and empty() hands a recycled buffer out as it was left', () => {
    if (!POISONED) throw new Error('LWZ_HOST_POOL_POISON is not 1: jest.poison.ts sets it unless the caller set it otherwise');
    prime([4096]);
    const e = empty([4096], { device: 'cpu' });
    expect(Array.from(e.toHost()).every(Number.isNaN)).toBe(true);
    prime([4096]);
    const z = zeros([4096], { device: 'cpu' }); // zeros() still zero-fills a recycled buffer
    expect(Array.from(z.toHost()).every((x) => x === 0)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const want = c.run('ref', new Rng(7)).map((t) => Float64Array.from(t.toHost()));
    prime(c.outputs);
    const got = c.run('cpu', new Rng(7)).map((t) => Float64Array.from(t.toHost()));
    const tol = TOLERANCES[c.tol].f32;
    got.forEach((g, i) => expect(g).toBeAllClose(want[i], tol));
  });
});
