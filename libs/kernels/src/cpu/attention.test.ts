// cpu attention at long T: the flash-style forward against a float64 per-query reference on a few rows
// (the full ref at T = 4096 would take minutes), and the backward (packed one-pass path on every ISA, and the
// row-at-a-time path) against the ref kernel at a length that spans many key and query tiles, with a KV
// prefix and left padding.
import { Rng } from '@lwz/core';
import { getKernel, hasKernel, tensor, zeros, type Device, type Tensor } from '../index';
import { loadAddon } from './native';

function randn(rng: Rng, shape: number[], device: Device): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return tensor(a, shape, { device });
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

const available = hasKernel('attentionForward', 'cpu');
const load = loadAddon();
const ALL_ISAS = ['avx512', 'avx2', 'generic'] as const;
type Isa = (typeof ALL_ISAS)[number];
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
    getKernel('attentionForward', 'cpu')({ q, k, v, qOffset, kvStart, scale: 1 / Math.sqrt(d), out, lse });
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

  it('backward over many tiles with a KV prefix and left padding matches ref', () => {
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
      const common = { q, k, v, qOffset, kvStart, scale: 0.3 };
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
    // every ISA's micro-kernels (the packed path, one task per (row, kv head)); 8 threads for 4 tasks takes
    // the row-at-a-time path
    const addon = 'addon' in load ? load.addon : null;
    const detected = (addon?.info().detectedIsa ?? 'generic') as Isa;
    const threadsBefore = addon?.info().threads ?? 1;
    const isas = ALL_ISAS.slice(ALL_ISAS.indexOf(detected));
    const runs: [Isa, number][] = [...isas.map((isa): [Isa, number] => [isa, 1]), [isas[0], 8]];
    try {
      for (const [isa, threads] of runs) {
        addon?.setIsa(isa);
        addon?.setThreads(threads);
        const got = run('cpu');
        got.forEach((g, n) => expect(g).toBeAllClose(want[n], { atol: 1e-4, rtol: 1e-3 }));
      }
    } finally {
      addon?.setIsa(detected);
      addon?.setThreads(threadsBefore);
    }
  });
});

if (!available) it.skip('cpu attention: the native addon is not built', () => undefined);
