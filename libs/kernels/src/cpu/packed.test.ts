// Pre-packed matmul operands (ops/packed.ts) on the cpu GEMM: the same values as ref and, bit for bit, as the
// unpacked cpu GEMM (the arithmetic is the same, only the packing is skipped), on every instruction set and
// 1-2 threads, over shapes with several depth slices, edge tiles and a batch folded into M. The packing is
// used (a later change to b does not show) until the layout goes stale (another instruction set or blocking,
// or panels off a cache line: then b is read again). The op refuses a packing that belongs to another call.
import { Rng } from '@lwz/core';
import { copy, matmul, packMatmulB, tensor, tryBackend, type Tensor } from '../index';
import { loadAddon } from './native';

tryBackend('cpu'); // REQUIRE_NATIVE=1: throws when the addon is missing, so the suite fails instead of skipping
const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;

function randn(rng: Rng, shape: number[], device: 'cpu' | 'ref'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, () => rng.normal()),
    shape,
    { device },
  );
}

// [rows of a (a leading 2 = a batch of two, folded into M), k, n, transB]
const cases: [number[], number, number, boolean][] = [
  [[37], 700, 200, true], // several depth slices, threaded, n not a multiple of NR
  [[2], 33, 17, true], // the smallest packed GEMM: M = 2
  [[64], 256, 704, true], // a batch-64 decode projection of `tiny`
  [[9], 1030, 45, false], // plain b
  [[100], 700, 70, false], // the few-columns path (op(B) in one column block): depth slices, threaded, M and N tails
  [[2, 5], 300, 70, true], // batched a against a shared b
  [[18], 16, 16, true], // a packing smaller than ALIGN_MIN_VALUES: still cache-line aligned
  // few rows against packed b (gemm_fewrows.cpp gemmPackedFewRows): A panels of 6 + 2 rows, B panels split over the threads
  [[8], 256, 704, true], // a batch-8 decode projection of `tiny`
  [[7], 704, 256, true], // two depth slices, rows 6 + 1
  [[5], 300, 200, true], // one short A panel, an n tail, threaded (300 K multiply-adds)
  [[3], 40, 50, true], // below the threading bound: one thread
  [[2, 4], 256, 256, false], // plain b, a batch of rows folded into M = 8
];

if (!('addon' in load)) {
  it.skip(`packed matmul: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa as (typeof isas)[number];
  const usable = isas.slice(isas.indexOf(detected));
  beforeAll(() => addon.blasLoad('own'));
  afterAll(() => {
    addon.setIsa(detected);
    addon.setThreads(Number(process.env.LWZ_THREADS) || addon.info().threads);
    for (const isa of usable) addon.setGemmBlocking(isa, 0, 0, 0, 'set');
  });

  describe.each(usable.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const)))(
    'packed matmul on %s, %i threads',
    (isa, threads) => {
      it.each(cases)('a %j, k %i, n %i, transB %s', (rows, k, n, transB) => {
        expect(addon.setIsa(isa)).toBe(true);
        addon.setThreads(threads);
        const rng = new Rng(k * 31 + n);
        const [aRef, bRef, cRef] = [
          randn(rng, [...rows, k], 'ref'),
          randn(rng, transB ? [n, k] : [k, n], 'ref'),
          randn(rng, [...rows, n], 'ref'),
        ];
        const [a, b] = [aRef, bRef].map((t) => tensor(Float32Array.from(t.f32), t.shape, { device: 'cpu' }));
        const packed = packMatmulB(b, { transB });
        expect(packed).not.toBeNull();
        for (const accumulate of [false, true]) {
          const want = matmul(aRef, bRef, {
            transB,
            alpha: 0.75,
            out: tensor(Float32Array.from(cRef.f32), cRef.shape, { device: 'ref' }),
            accumulate,
          });
          const plain = matmul(a, b, {
            transB,
            alpha: 0.75,
            out: tensor(Float32Array.from(cRef.f32), cRef.shape, { device: 'cpu' }),
            accumulate,
          });
          const got = matmul(a, b, {
            transB,
            alpha: 0.75,
            packedB: packed,
            out: tensor(Float32Array.from(cRef.f32), cRef.shape, { device: 'cpu' }),
            accumulate,
          });
          expect(got.f32).toBeAllClose(want.f32, { atol: 2e-6 * Math.sqrt(k) * 4, rtol: 1e-4 }); // as matmul.test.ts
          expect(got.f32).toEqual(plain.f32);
        }
        packed?.data.dispose();
      });
    },
  );

  it('does not pack a depth-0 b (an empty product): no packing, and the product is zeros', () => {
    // found by a review: the native layout divided by its k-slice count, 0 for k = 0, and SIGFPE killed the process
    addon.setIsa(detected);
    const b = tensor(new Float32Array(0), [0, 17], { device: 'cpu' });
    const packed = packMatmulB(b);
    expect(packed).toBeNull();
    const a = tensor(new Float32Array(0), [3, 0], { device: 'cpu' });
    expect(Array.from(matmul(a, b, { packedB: packed }).f32)).toEqual(new Array(3 * 17).fill(0));
  });

  it('uses the packing (a later change to b does not show) until the instruction set or blocking changes it', () => {
    addon.setIsa(detected);
    const rng = new Rng(3);
    const [a, b, b2] = [randn(rng, [8, 100], 'cpu'), randn(rng, [50, 100], 'cpu'), randn(rng, [50, 100], 'cpu')];
    const before = matmul(a, b, { transB: true }).f32;
    const packed = packMatmulB(b, { transB: true });
    copy(b2, b); // b's values change after packing
    const after = matmul(a, b, { transB: true }).f32;
    expect(matmul(a, b, { transB: true, packedB: packed }).f32).toEqual(before);
    const other = usable.find((i) => i !== detected);
    if (other) {
      addon.setIsa(other); // another register tile: the packing no longer fits, b is read
      expect(matmul(a, b, { transB: true, packedB: packed }).f32).toBeAllClose(after, { atol: 1e-4, rtol: 1e-4 });
      addon.setIsa(detected);
    }
    addon.setGemmBlocking(detected, 16, 64, 48, 'set'); // another depth per slice: b is read
    expect(matmul(a, b, { transB: true, packedB: packed }).f32).toBeAllClose(after, { atol: 1e-4, rtol: 1e-4 });
    addon.setGemmBlocking(detected, 0, 0, 0, 'set');
    expect(matmul(a, b, { transB: true, packedB: packed }).f32).toEqual(before);
    if (!packed) return;
    const shifted = { ...packed, data: packed.data.view(1, [packed.data.size - 1]) }; // off the cache line: b is read
    expect(matmul(a, b, { transB: true, packedB: shifted }).f32).toBeAllClose(after, { atol: 1e-4, rtol: 1e-4 });
  });

  it('refuses a packing of another tensor, another transB, or a disposed one; ref has no packed form', () => {
    const rng = new Rng(4);
    const [a, b, c] = [randn(rng, [4, 6], 'cpu'), randn(rng, [6, 6], 'cpu'), randn(rng, [6, 6], 'cpu')];
    const packed = packMatmulB(b, { transB: true });
    expect(() => matmul(a, c, { transB: true, packedB: packed })).toThrow(
      /matmul: packedB does not belong to this call \(it packs another tensor\)/,
    );
    expect(() => matmul(a, b, { packedB: packed })).toThrow(/it was packed with transB true/);
    packed?.data.dispose();
    expect(() => matmul(a, b, { transB: true, packedB: packed })).toThrow(/it was disposed/);
    expect(packMatmulB(randn(rng, [6, 6], 'ref'))).toBeNull();
  });
}
