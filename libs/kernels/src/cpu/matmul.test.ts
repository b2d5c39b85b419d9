// cpu matmul against the float64 ref kernel on shapes that hit the packed GEMM's edge tiles, several cache
// blocks, batching and both GEMV forms, for every instruction set this CPU has and 1-2 threads.
import { Rng } from '@lwz/core';
import { tensor, tryBackend, type Device } from '../index';
import { getKernel } from '../registry';
import { setupBlas } from './blas';
import { loadAddon } from './native';

// REQUIRE_NATIVE=1: tryBackend throws when the addon is missing, so the suite fails instead of skipping
tryBackend('cpu');
const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

type Case = [batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, bBatched: boolean];

function run(device: Device, c: Case, A: Float32Array, B: Float32Array, C0: Float32Array, accumulate: boolean): Float32Array {
  const [batch, m, k, n, transA, transB, bBatched] = c;
  const aShape = transA ? [k, m] : [m, k];
  const bShape = transB ? [n, k] : [k, n];
  const a = tensor(A.slice(), batch > 1 ? [batch, ...aShape] : aShape, { device });
  const b = tensor(B.slice(), bBatched ? [batch, ...bShape] : bShape, { device });
  const out = tensor(C0.slice(), batch > 1 ? [batch, m, n] : [m, n], { device });
  getKernel('matmulForward', device)({ a, b, out, transA, transB, alpha: 0.75, accumulate });
  return out.f32;
}

const refCache = new Map<string, Float32Array>();
const inputCache = new Map<string, [A: Float32Array, B: Float32Array, C0: Float32Array]>();

/** A case's inputs, drawn once from its own seed and shared by every ISA and thread count: under jest, drawing the
 * normals was 90 % of this suite's time before rng.ts bound Math's functions once, and drawing once per case is
 * still 4x less of it. The kernels get copies, so no run can change them. */
function inputs(c: Case): [A: Float32Array, B: Float32Array, C0: Float32Array] {
  const key = c.join(',');
  let r = inputCache.get(key);
  if (!r) {
    const [batch, m, k, n, , , bBatched] = c;
    const rng = new Rng(m * 7919 + k * 31 + n);
    r = [randn(rng, batch * m * k), randn(rng, (bBatched ? batch : 1) * k * n), randn(rng, batch * m * n)];
    inputCache.set(key, r);
  }
  return r;
}

/** The ref result for a case, computed once (ref is the slow part of this suite). */
function refResult(c: Case, A: Float32Array, B: Float32Array, C0: Float32Array, accumulate: boolean): Float32Array {
  const key = `${c.join(',')}:${accumulate}`;
  let r = refCache.get(key);
  if (!r) {
    r = run('ref', c, A, B, C0, accumulate);
    refCache.set(key, r);
  }
  return r;
}

const cases: Case[] = [
  [1, 257, 300, 230, false, false, false], // above the threading threshold
  [1, 131, 517, 67, true, false, false],
  [1, 64, 260, 200, false, true, false],
  [1, 37, 129, 301, true, true, false],
  [1, 500, 700, 100, true, false, false], // few columns, transposed A: 48-row groups, whole op(B) packed, 2-3 depth slices
  [1, 400, 700, 100, false, true, false], // few columns, plain A
  [1, 64, 700, 1000, false, true, false], // few rows (batched decode, x W^T): B panels packed while computing
  [1, 1, 1100, 1000, false, false, false], // threaded GEMV forms
  [1, 1, 1024, 1030, false, true, false],
  [1, 1, 700, 333, false, true, false],
  [1, 300, 411, 1, false, false, false],
  [1, 300, 411, 1, true, false, false],
  [1, 2100, 500, 1, true, false, false],
  [1, 1, 15, 7, false, false, false], // axpy GEMV tails: one 8-row block, pairs, a single row; masked columns only
  [1, 1, 23, 8200, false, false, false], // rows wider than 8192: prefetch within the row
  [1, 1, 1031, 1029, false, false, false], // threaded axpy with row and column tails
  [1, 33, 3, 1, true, false, false],
  [1, 1, 4096, 20, false, true, false], // threaded dot GEMV with fewer than 16 rows per thread: an empty chunk
  [1, 1, 37, 15, false, true, false], // dot GEMV streams rows j, j + 3, j + 6, j + 9, then 3 tail rows; k tail
  [1, 1, 29, 13, false, false, false], // axpy GEMV: 8 streams of 3 rows (x[p + 3i]), then a pair and a single row
  [3, 29, 45, 70, false, false, false],
  [3, 29, 45, 70, true, true, true],
  [2, 1, 96, 80, false, true, true],
  [8, 64, 64, 64, true, true, true], // batches of small GEMMs run one per thread
  [4, 1, 512, 600, false, true, true],
  [4, 1, 512, 600, false, false, true],
];

if (!('addon' in load)) {
  it.skip(`cpu matmul: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa;
  const usable = isas.slice(isas.indexOf(detected as (typeof isas)[number]));

  // The routing plan (LWZ_BLAS=auto) may send the larger shapes here to the system BLAS: this suite checks ours.
  beforeAll(() => addon.blasLoad('own'));
  afterAll(() => {
    setupBlas(addon, () => undefined);
    addon.setIsa(detected as (typeof isas)[number]);
    addon.setThreads(Number(process.env.LWZ_THREADS) || addon.info().threads);
  });

  describe.each(usable.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const)))(
    'cpu matmul on %s with %i threads',
    (isa, threads) => {
      it.each(cases)('batch %i, %i x %i x %i (transA %s, transB %s, b batched %s)', (...c) => {
        expect(addon.setIsa(isa)).toBe(true);
        addon.setThreads(threads);
        const [, , k] = c;
        const [A, B, C0] = inputs(c);
        for (const accumulate of [false, true]) {
          const want = refResult(c, A, B, C0, accumulate);
          const got = run('cpu', c, A, B, C0, accumulate);
          // float32 accumulation over k terms of unit-variance products: error grows like sqrt(k) * eps32
          expect(got).toBeAllClose(want, { atol: 2e-6 * Math.sqrt(k) * 4, rtol: 1e-4 });
        }
      });
    },
  );

  it('reports the instruction set and thread count it runs with', () => {
    const info = addon.info();
    expect(usable).toContain(info.isa);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });
}
