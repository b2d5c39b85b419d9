// Conformance: every available backend against `ref` on random shapes (odd sizes, one row, batched GEMMs),
// for copy/fill through views, the linear, elementwise, embedding, norm, RoPE and SwiGLU ops. Tolerances: TOLERANCES in
// testing/conformance-harness.ts. A backend that cannot start is listed as skipped; with REQUIRE_CUDA=1 a
// missing cuda backend fails instead.
import {
  add,
  availableDevices,
  axpy,
  backendStatus,
  copy,
  copyAt,
  DEVICES,
  fill,
  embedding,
  embeddingBackward,
  matmul,
  mul,
  rmsnorm,
  rmsnormBackward,
  rope,
  scale,
  sumRows,
  swiglu,
  swigluBackward,
  tensor,
} from './index';
import { describeConformance, host, ints, randn, type ConformanceCase } from './testing/conformance-harness';

describe('backends', () => {
  it('reports every backend, available or not', () => {
    const status = backendStatus();
    expect(status.map((s) => s.device)).toEqual([...DEVICES]);
    expect(status[0].available).toBe(true);
    for (const s of status.filter((x) => !x.available)) console.warn(`backend ${s.device} skipped: ${s.detail}`);
    if (process.env.REQUIRE_CUDA === '1') expect(availableDevices()).toContain('cuda');
  });
});

const matmulCases: ConformanceCase[] = [
  [1, 1, 1, false, false],
  [7, 13, 5, false, false],
  [1, 64, 33, false, true],
  [65, 31, 17, true, false],
  [33, 70, 129, true, true],
].map(([m, k, n, transA, transB]) => ({
  name: `matmul ${m} x ${k} x ${n} (transA ${transA}, transB ${transB})`,
  kernels: ['matmulForward'],
  tol: 'matmul',
  run: (dev, rng) => {
    const a = randn(rng, transA ? [k as number, m as number] : [m as number, k as number], dev);
    const b = randn(rng, transB ? [n as number, k as number] : [k as number, n as number], dev);
    return host(matmul(a, b, { transA: transA as boolean, transB: transB as boolean }));
  },
}));

const cases: ConformanceCase[] = [
  {
    name: 'copy rows between views (f32 and i32), whole tensors, one value; fill views and whole tensors',
    kernels: ['copyForward', 'fillForward'],
    tol: 'exact',
    run: (dev, rng) => {
      const src = randn(rng, [5, 7], dev);
      const dst = randn(rng, [9, 7], dev);
      copy(src.rows(1, 3), dst.rows(4, 3)); // rows 1..3 of src into rows 4..6 of dst
      copy(src.view(34, [1]), dst.view(0, [1])); // the last value alone
      const ids = ints([1, 2, 3, 4, 5, 6], [2, 3], dev);
      const idsOut = ints([0, 0, 0, 0, 0, 0, 0, 0, 0], [9], dev);
      copy(ids.rows(1, 1), idsOut.view(5, [3]));
      const whole = copy(randn(rng, [1031], dev), randn(rng, [1031], dev));
      const filled = randn(rng, [4, 5], dev);
      fill(filled.rows(1, 2), -2.5); // rows 0 and 3 keep their values
      const nan = fill(tensor(new Float32Array(300).fill(Number.NaN), [300], { device: dev }), 0);
      const idsFilled = ints([7, 7, 7], [3], dev);
      fill(idsFilled.view(1, [2]), -9);
      return host(dst, idsOut, whole, filled, nan, idsFilled);
    },
  },
  {
    name: 'copyAt: a step of rows into a cache view at per-row positions (f32, T 1 and 3; i32), ends and starts',
    kernels: ['copyAtForward'],
    tol: 'exact',
    run: (dev, rng) => {
      const cache = randn(rng, [6, 9, 2, 5], dev); // (B, S, Hkv, D); rows 1..4 are fed
      copyAt(randn(rng, [4, 1, 2, 5], dev), cache.rows(1, 4), [0, 8, 3, 5]); // one token; the last slot of row 2
      copyAt(randn(rng, [4, 3, 10], dev), cache.rows(1, 4), [6, 0, 2, 1]); // three tokens, another (E) shape
      const ids = ints([1, 2, 3, 4, 5, 6], [3, 2], dev);
      const idsOut = ints(new Array<number>(15).fill(-1), [3, 5], dev);
      copyAt(ids, idsOut, [3, 0, 1]);
      return host(cache, idsOut);
    },
  },
  {
    name: 'copyAt headMajor: (B, T, Hkv, D) steps into a head-major cache view (B, Hkv, S, D) at per-row positions',
    kernels: ['copyAtForward'],
    tol: 'exact',
    run: (dev, rng) => {
      const cache = randn(rng, [5, 3, 9, 4], dev); // (B, Hkv, S, D); rows 1..3 are fed
      copyAt(randn(rng, [3, 1, 3, 4], dev), cache.rows(1, 3), [0, 8, 4], { headMajor: true }); // one token; a row's last slot
      copyAt(randn(rng, [3, 4, 3, 4], dev), cache.rows(1, 3), [5, 1, 0], { headMajor: true }); // a prefill of four
      return host(cache);
    },
  },
  ...matmulCases,
  {
    name: 'matmul batched (3, 9, 11) @ shared (11, 6) and batched (3, 6, 11)^T, alpha and accumulate',
    kernels: ['matmulForward'],
    tol: 'matmul',
    run: (dev, rng) => {
      const a = randn(rng, [3, 9, 11], dev);
      const shared = matmul(a, randn(rng, [11, 6], dev), { alpha: 0.5 });
      const acc = randn(rng, [3, 9, 6], dev);
      matmul(a, randn(rng, [3, 6, 11], dev), { transB: true, out: acc, accumulate: true, alpha: -2 });
      return host(shared, acc);
    },
  },
  {
    name: 'add / mul with suffix broadcast, scale, axpy (odd sizes)',
    kernels: ['addForward', 'mulForward', 'scaleForward'],
    tol: 'elementwise',
    run: (dev, rng) => {
      const a = randn(rng, [3, 7, 13], dev);
      const bias = randn(rng, [7, 13], dev);
      const full = randn(rng, [3, 7, 13], dev);
      const acc = randn(rng, [3, 7, 13], dev);
      axpy(acc, -0.37, a);
      return host(add(a, bias), mul(a, full), mul(a, randn(rng, [13], dev)), scale(a, 1.7), acc);
    },
  },
  {
    name: 'sumRows over (33, 17) and one row, accumulating',
    kernels: ['sumRowsForward'],
    tol: 'reduce',
    run: (dev, rng) => {
      const acc = randn(rng, [5], dev);
      sumRows(randn(rng, [1, 5], dev), { out: acc, accumulate: true });
      return host(sumRows(randn(rng, [33, 17], dev)), acc);
    },
  },
  {
    name: 'embedding gather and scatter-add with repeated ids (V 50, C 13)',
    kernels: ['embeddingForward', 'embeddingBackward'],
    tol: 'elementwise',
    run: (dev, rng) => {
      const table = randn(rng, [50, 13], dev);
      const ids = ints([0, 49, 7, 7, 3, 49, 7, 12, 1], [3, 3], dev);
      const dTable = randn(rng, [50, 13], dev);
      embeddingBackward(randn(rng, [3, 3, 13], dev), ids, dTable);
      return host(embedding(table, ids), dTable);
    },
  },
  {
    // rows of whole 64-byte blocks and a tail (C 37: 16 + 16 + 5), spread over several thread chunks (the cpu gather
    // copies block by block while requesting the next row's lines)
    name: 'embedding gather of 4000 ids over (300, 37) and (300, 64) tables',
    kernels: ['embeddingForward'],
    tol: 'elementwise',
    run: (dev, rng) => {
      const ids = ints(
        Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) % 300),
        [4000],
        dev,
      );
      return host(embedding(randn(rng, [300, 37], dev), ids), embedding(randn(rng, [300, 64], dev), ids));
    },
  },
  ...[
    [1, 7],
    [5, 64],
    [9, 33],
  ].map(
    ([n, c]): ConformanceCase => ({
      name: `rmsnorm forward and backward (${n}, ${c})`,
      kernels: ['rmsnormForward', 'rmsnormBackward'],
      tol: 'norm',
      run: (dev, rng) => {
        const x = randn(rng, [n, c], dev, 2);
        const w = randn(rng, [c], dev);
        const { y, rstd } = rmsnorm(x, w, 1e-6);
        const dw = randn(rng, [c], dev);
        const { dx } = rmsnormBackward(randn(rng, [n, c], dev), x, w, rstd, dw);
        return host(y, rstd, dx, dw);
      },
    }),
  ),
  {
    name: 'rope: T = 1 decode at position 37, and (2, 5, 3, 16) with per-row offsets, forward and inverse',
    kernels: ['ropeForward'],
    tol: 'rope',
    run: (dev, rng) => {
      const one = rope(randn(rng, [1, 1, 4, 8], dev), ints([37], [1, 1], dev), 10000);
      const x = randn(rng, [2, 5, 3, 16], dev);
      const pos = ints([0, 1, 2, 3, 4, 100, 101, 102, 103, 104], [2, 5], dev);
      const inv = rope(x, pos, 1e6, { inverse: true });
      return host(one, rope(x, pos, 1e6), inv, rope(x, pos, 10000, { inPlace: true }));
    },
  },
  {
    name: 'rope at positions near 16k (long-context offsets)',
    kernels: ['ropeForward'],
    tol: 'ropeLongPositions',
    run: (dev, rng) => host(rope(randn(rng, [1, 3, 2, 64], dev), ints([16381, 16382, 16383], [1, 3], dev), 10000)),
  },
  {
    name: 'swiglu forward and backward (1, 1), (7, 37) and (40, 2000)',
    kernels: ['swigluForward', 'swigluBackward'],
    tol: 'exp',
    run: (dev, rng) => {
      const outs = [];
      for (const shape of [
        [1, 1],
        [7, 37],
        [40, 2000], // 80,000 values: the cpu kernel's two threads, each over blocks of 2048 checked for far gates
      ]) {
        const gate = randn(rng, shape, dev, 3);
        // far below the cpu exp's clamp (-88) silu is 0, not gate / e^88; -inf gives NaN as -inf / inf does
        if (shape[1] === 37) {
          fill(gate.view(5, [3]), -1e37);
          fill(gate.view(9, [1]), -Infinity);
        }
        // in a later block of each thread's range only, the blocks before them without any
        if (shape[1] === 2000) {
          fill(gate.view(5000, [2]), -1e37);
          fill(gate.view(70001, [1]), -Infinity);
          fill(gate.view(79999, [1]), -200);
        }
        const up = randn(rng, shape, dev);
        const { dGate, dUp } = swigluBackward(randn(rng, shape, dev), gate, up);
        outs.push(swiglu(gate, up), dGate, dUp);
      }
      return host(...outs);
    },
  },
];

describeConformance('linear, elementwise, norm, rope', cases, 1234);
