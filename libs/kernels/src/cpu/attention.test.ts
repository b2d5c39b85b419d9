// cpu attention at long T: the flash-style forward against a float64 per-query reference on a few rows
// (the full ref at T = 4096 would take minutes), the decode path (one new query over a 1300-token window,
// split into key ranges; D = 64 and 128 take the AVX-512 / AVX2 bodies, 48 the portable loops) on every
// instruction set and 1-2 threads, also with scores spread over hundreds (1, 13 and 700 keys), and the
// recomputing backward against the ref kernel at a length that spans many key and query tiles, with a KV prefix and left padding, on every
// instruction set the CPU has (the packed one-pass path, one task per (row, kv head), with 1-3 threads) and
// with more threads than (row, kv head) tasks (the row-at-a-time path). The forward over a head-major cache
// (B, Hkv, S, D) against ref on the (B, S, Hkv, D) transpose, on every path and instruction set.
import { Rng } from '@lwz/core';
import { attention, tensor, toDevice, tryBackend, zeros, type Device, type Tensor } from '../index';
import { getKernel } from '../registry';
import { loadAddon } from './native';

const ISAS = ['avx512', 'avx2', 'generic'] as const;

function randn(rng: Rng, shape: number[], device: Device): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return tensor(a, shape, { device });
}

/**
 * `body(isa, threads)` on every instruction set from the detected one down, at each of `threadCounts`; the
 * addon's instruction set and thread count are restored afterwards.
 */
function onEveryIsa(threadCounts: number[], body: (isa: (typeof ISAS)[number], threads: number) => void): void {
  const load = loadAddon();
  if (!('addon' in load)) throw new Error(load.error);
  const { addon } = load;
  const detected = addon.info().detectedIsa as (typeof ISAS)[number];
  const threads = addon.info().threads;
  try {
    for (const isa of ISAS.slice(ISAS.indexOf(detected)))
      for (const n of threadCounts) {
        expect(addon.setIsa(isa)).toBe(true);
        addon.setThreads(n);
        body(isa, n);
      }
  } finally {
    addon.setIsa(detected);
    addon.setThreads(threads);
  }
}

/**
 * One decode step's output (one query row, heads r < want.length) against float64: the largest
 * |got - want| / (2e-5 + 1e-4 |want|) over every output, and |lse - want| / lseTol(want) (<= 1 passes).
 */
function decodeWorst(out: Tensor, lse: Tensor, want: { out: number[]; lse: number }[], d: number, lseTol: (w: number) => number): number {
  let worst = 0;
  want.forEach((w, r) => {
    w.out.forEach((x, i) => (worst = Math.max(worst, Math.abs(out.f32[r * d + i] - x) / (2e-5 + 1e-4 * Math.abs(x)))));
    worst = Math.max(worst, Math.abs(lse.f32[r] - w.lse) / lseTol(w.lse));
  });
  return worst;
}

/** Float64 softmax(q k^T scale) v for one (row, query, head), keys lo..hi, kv head g. */
function attendOne(q: Float32Array, k: Float32Array, v: Float32Array, dims: number[], at: number[]): { out: number[]; lse: number } {
  const [t, s, h, hkv, d] = dims;
  const [bb, i, hh, lo, hi] = at;
  const g = Math.floor(hh / (h / hkv));
  const qo = ((bb * t + i) * h + hh) * d;
  const scores: number[] = [];
  for (let j = lo; j <= hi; j++) {
    let dot = 0;
    for (let x = 0; x < d; x++) dot += q[qo + x] * k[((bb * s + j) * hkv + g) * d + x];
    scores.push(dot / Math.sqrt(d));
  }
  const max = Math.max(...scores);
  const out = new Array<number>(d).fill(0);
  let sum = 0;
  scores.forEach((sc, n) => {
    const p = Math.exp(sc - max);
    sum += p;
    for (let x = 0; x < d; x++) out[x] += p * v[((bb * s + lo + n) * hkv + g) * d + x];
  });
  return { out: out.map((o) => o / sum), lse: max + Math.log(sum) };
}

// REQUIRE_NATIVE=1: tryBackend throws when the addon is missing, so the suite fails instead of skipping
const available = tryBackend('cpu') !== null;
const maybe = available ? describe : describe.skip;

maybe('cpu attention at long T', () => {
  it('forward at T = 4096 (GQA 2, causal) matches float64 on sampled queries', () => {
    const [b, t, h, hkv, d] = [1, 4096, 2, 1, 64];
    const rng = new Rng(7);
    const q = randn(rng, [b, t, h, d], 'cpu');
    const k = randn(rng, [b, t, hkv, d], 'cpu');
    const v = randn(rng, [b, t, hkv, d], 'cpu');
    const out = zeros([b, t, h, d], { device: 'cpu' });
    const lse = zeros([b, h, t], { device: 'cpu' });
    const qOffset = tensor(Int32Array.from([0]), [b], { device: 'cpu', dtype: 'i32' });
    const kvStart = tensor(Int32Array.from([0]), [b], { device: 'cpu', dtype: 'i32' });
    getKernel('attentionForward', 'cpu')({ q, k, v, qOffset, kvStart, scale: 1 / Math.sqrt(d), kvLayout: 'bshd', out, lse });
    for (const [i, hh] of [
      [0, 0],
      [63, 1],
      [64, 0],
      [2047, 1],
      [4031, 0],
      [4095, 1],
    ]) {
      const want = attendOne(q.f32, k.f32, v.f32, [t, t, h, hkv, d], [0, i, hh, 0, i]);
      const o = ((0 * t + i) * h + hh) * d;
      expect(out.f32.subarray(o, o + d)).toBeAllClose(want.out, { atol: 2e-5, rtol: 1e-4 });
      expect(lse.f32[hh * t + i]).toBeCloseTo(want.lse, 4);
    }
  });

  it('decode (T = 1, GQA 7, D = 64, 128, 48) over a 1300-token cache matches float64 on every ISA and thread count', () => {
    for (const d of [64, 128, 48]) {
      const [b, t, s, h, hkv] = [1, 1, 1500, 14, 2];
      const rng = new Rng(d);
      const q = randn(rng, [b, t, h, d], 'cpu');
      const k = randn(rng, [b, s, hkv, d], 'cpu');
      const v = randn(rng, [b, s, hkv, d], 'cpu');
      const offsets = [1499];
      const qOffset = tensor(Int32Array.from(offsets), [b], { device: 'cpu', dtype: 'i32' });
      const kvStart = tensor(Int32Array.from([200]), [b], { device: 'cpu', dtype: 'i32' });
      const want = Array.from({ length: h }, (_, hh) => attendOne(q.f32, k.f32, v.f32, [t, s, h, hkv, d], [0, 0, hh, 200, offsets[0]]));
      onEveryIsa([1, 2], (isa, n) => {
        const out = zeros([b, t, h, d], { device: 'cpu' });
        const lse = zeros([b, h, t], { device: 'cpu' });
        getKernel('attentionForward', 'cpu')({ q, k, v, qOffset, kvStart, scale: 1 / Math.sqrt(d), kvLayout: 'bshd', out, lse });
        const worst = decodeWorst(out, lse, want, d, () => 1e-4);
        expect({ isa, threads: n, d, ok: worst <= 1 }).toEqual({ isa, threads: n, d, ok: true });
      });
    }
  });

  it('decode with scores spread over hundreds (most probabilities underflow) matches float64 on every ISA and thread count', () => {
    // the softmax's exp far below the max (where the vector bodies clamp or zero it) and the running max moving
    // between chunks and key ranges; 1, 13 and 700 visible keys, GQA 7, D = 64 and 128 (the vector bodies)
    const [b, t, s, h, hkv] = [1, 1, 712, 14, 2];
    for (const d of [64, 128])
      for (const keys of [1, 13, 700]) {
        const rng = new Rng(d + keys);
        const q = randn(rng, [b, t, h, d], 'cpu');
        q.f32.forEach((x, i) => (q.f32[i] = 30 * x)); // scores of standard deviation ~30
        const k = randn(rng, [b, s, hkv, d], 'cpu');
        const v = randn(rng, [b, s, hkv, d], 'cpu');
        const qOffset = tensor(Int32Array.from([keys - 1]), [b], { device: 'cpu', dtype: 'i32' });
        const kvStart = tensor(Int32Array.from([0]), [b], { device: 'cpu', dtype: 'i32' });
        const want = Array.from({ length: h }, (_, hh) => attendOne(q.f32, k.f32, v.f32, [t, s, h, hkv, d], [0, 0, hh, 0, keys - 1]));
        onEveryIsa([1, 2], (isa, n) => {
          const out = zeros([b, t, h, d], { device: 'cpu' });
          const lse = zeros([b, h, t], { device: 'cpu' });
          getKernel('attentionForward', 'cpu')({ q, k, v, qOffset, kvStart, scale: 1 / Math.sqrt(d), kvLayout: 'bshd', out, lse });
          const worst = decodeWorst(out, lse, want, d, (w) => 1e-4 * (1 + Math.abs(w))); // lse against 1e-4 (1 + |lse|)
          expect({ isa, threads: n, d, keys, ok: worst <= 1 }).toEqual({ isa, threads: n, d, keys, ok: true });
        });
      }
  });

  it('head-major k/v (B, Hkv, S, D) equals ref on the (B, S, Hkv, D) transpose: decode, few tokens, packed prefill, every ISA', () => {
    // T = 1 and 3 (the decode path: vector bodies at D = 64 and 128, long enough to split into key ranges and
    // request the next chunk), T = 20 (the packed path); GQA 7 and 1; rows with their own kvStart and qOffset
    const toHeadMajor = (x: Tensor) => {
      const [b, s, hkv, d] = x.shape;
      const out = new Float32Array(x.size);
      for (let bb = 0; bb < b; bb++)
        for (let j = 0; j < s; j++)
          for (let g = 0; g < hkv; g++)
            for (let e = 0; e < d; e++) out[((bb * hkv + g) * s + j) * d + e] = x.f32[((bb * s + j) * hkv + g) * d + e];
      return tensor(out, [b, hkv, s, d], { device: 'cpu' });
    };
    for (const [t, s, qOffsets] of [
      [1, 1310, [1299, 700]],
      [3, 600, [590, 260]],
      [20, 300, [270, 100]],
    ] as const)
      for (const [h, hkv] of [
        [14, 2],
        [2, 2],
      ])
        for (const d of [64, 128]) {
          const b = 2;
          const rng = new Rng(t * 1000 + h + d);
          const q = randn(rng, [b, t, h, d], 'cpu');
          const k = randn(rng, [b, s, hkv, d], 'cpu');
          const v = randn(rng, [b, s, hkv, d], 'cpu');
          const offsets = { qOffset: [...qOffsets], kvStart: [0, 37] };
          const want = attention(toDevice(q, 'ref'), toDevice(k, 'ref'), toDevice(v, 'ref'), offsets);
          const [kh, vh] = [toHeadMajor(k), toHeadMajor(v)];
          onEveryIsa([1, 2], (isa, n) => {
            const got = attention(q, kh, vh, { ...offsets, kvLayout: 'bhsd' });
            const ok = [got.out.f32.every((x, i) => Math.abs(x - want.out.f32[i]) <= 5e-5 + 5e-4 * Math.abs(want.out.f32[i]))];
            ok.push(got.lse.f32.every((x, i) => Math.abs(x - want.lse.f32[i]) <= 1e-4 * (1 + Math.abs(want.lse.f32[i]))));
            expect({ isa, threads: n, t, h, hkv, d, ok }).toEqual({ isa, threads: n, t, h, hkv, d, ok: [true, true] });
          });
        }
  });

  it('head-major decode of one row (the rollout batch of 1) matches ref with 1-4 threads: whole heads and key ranges merged', () => {
    // batch 1 over a head-major cache gives one (kv head, key range) per thread: 1-2 threads with 2 kv heads walk
    // whole heads, 3-4 threads (and GQA 7 over one kv head from 2 threads) split each head's keys into ranges whose
    // running states are merged, and a thread requests the range it likely takes next
    for (const [h, hkv] of [
      [14, 2],
      [7, 1],
    ])
      for (const d of [64, 128]) {
        const [s, pos] = [1310, 1299];
        const rng = new Rng(h * 100 + d);
        const q = randn(rng, [1, 1, h, d], 'cpu');
        const k = randn(rng, [1, hkv, s, d], 'cpu');
        const v = randn(rng, [1, hkv, s, d], 'cpu');
        const offsets = { qOffset: [pos], kvStart: [0] };
        const want = attention(toDevice(q, 'ref'), toDevice(k, 'ref'), toDevice(v, 'ref'), { ...offsets, kvLayout: 'bhsd' });
        onEveryIsa([1, 2, 3, 4], (isa, n) => {
          const got = attention(q, k, v, { ...offsets, kvLayout: 'bhsd' });
          const ok = [got.out.f32.every((x, i) => Math.abs(x - want.out.f32[i]) <= 5e-5 + 5e-4 * Math.abs(want.out.f32[i]))];
          ok.push(got.lse.f32.every((x, i) => Math.abs(x - want.lse.f32[i]) <= 1e-4 * (1 + Math.abs(want.lse.f32[i]))));
          expect({ isa, threads: n, h, hkv, d, ok }).toEqual({ isa, threads: n, h, hkv, d, ok: [true, true] });
        });
      }
  });

  it('backward over many tiles with a KV prefix and left padding matches ref on every ISA and thread count', () => {
    const [b, t, s, h, hkv, d] = [2, 150, 213, 4, 2, 16];
    const qOffsets = [s - t, s - t];
    const kvStarts = [0, 37];
    const run = (device: Device) => {
      const rng = new Rng(11);
      const q = randn(rng, [b, t, h, d], device);
      const k = randn(rng, [b, s, hkv, d], device);
      const v = randn(rng, [b, s, hkv, d], device);
      const dOut = randn(rng, [b, t, h, d], device);
      const qOffset = tensor(Int32Array.from(qOffsets), [b], { device, dtype: 'i32' });
      const kvStart = tensor(Int32Array.from(kvStarts), [b], { device, dtype: 'i32' });
      const common = { q, k, v, qOffset, kvStart, scale: 0.3, kvLayout: 'bshd' as const };
      const out = zeros([b, t, h, d], { device });
      const lse = zeros([b, h, t], { device });
      getKernel('attentionForward', device)({ ...common, out, lse });
      const dq = zeros(q.shape, { device });
      const dk = zeros(k.shape, { device });
      const dv = zeros(k.shape, { device });
      getKernel('attentionBackward', device)({ ...common, out, lse, dOut, dq, dk, dv });
      return [dq, dk, dv].map((x) => x.f32);
    };
    const want = run('ref');
    // the packed tiles follow each micro-kernel's MR x NR; 1-3 threads share the 4 (row, kv head) tasks of the
    // packed path, 8 threads for 4 tasks take the row-at-a-time path
    onEveryIsa([1, 2, 3, 8], () => {
      const got = run('cpu');
      got.forEach((g, i) => expect(g).toBeAllClose(want[i], { atol: 1e-4, rtol: 1e-3 }));
    });
  });
});

if (!available) it.skip('cpu attention: the native addon is not built', () => undefined);
