// Forward ops on `ref` against independent formulas written out here: attention as an explicit masked
// softmax(Q K^T) V, RoPE as hand-rotated pairs and its relative-position property, RMSNorm and SwiGLU
// elementwise, and the argument checks. Tolerances: f32 storage vs float64 formulas, atol 1e-6 rtol 1e-5.
import { Rng } from '@lwz/core';
import { attention, attentionBackward, matmul, rmsnorm, rope, swiglu, tensor } from './index';
import { dot, randomF32 } from './testing/numeric';
import type { AttentionDims } from './ref/attention-forward';

const ref = { device: 'ref' as const };
const f32tol = { atol: 1e-6, rtol: 1e-5 };

interface Case extends AttentionDims {
  qOffset?: number[];
  kvStart?: number[];
}

/** The textbook (T, S) score matrix per (row, head), masked, softmaxed, times V; float64. */
function naiveAttention(c: Case, q: Float32Array, k: Float32Array, v: Float32Array, scale: number) {
  const out = new Float64Array(c.b * c.t * c.h * c.d);
  const lse = new Float64Array(c.b * c.h * c.t);
  for (let b = 0; b < c.b; b++) {
    const qOff = c.qOffset?.[b] ?? c.s - c.t;
    const start = c.kvStart?.[b] ?? 0;
    for (let h = 0; h < c.h; h++) {
      const kvh = Math.floor((h * c.hkv) / c.h); // repeat_kv: head h reads kv head h / (H / Hkv)
      const qv = (i: number) => q.subarray(((b * c.t + i) * c.h + h) * c.d, ((b * c.t + i) * c.h + h + 1) * c.d);
      const kv = (a: Float32Array, j: number) => a.subarray(((b * c.s + j) * c.hkv + kvh) * c.d, ((b * c.s + j) * c.hkv + kvh + 1) * c.d);
      const scores: number[][] = [];
      for (let i = 0; i < c.t; i++) {
        scores.push([]);
        for (let j = 0; j < c.s; j++) scores[i].push(j >= start && j <= qOff + i ? scale * dot(qv(i), kv(k, j)) : -Infinity);
      }
      for (let i = 0; i < c.t; i++) {
        const z = scores[i].reduce((acc, x) => acc + Math.exp(x), 0);
        lse[(b * c.h + h) * c.t + i] = Math.log(z);
        for (let j = 0; j < c.s && z > 0; j++) {
          const p = Math.exp(scores[i][j]) / z;
          const vj = kv(v, j);
          for (let x = 0; x < c.d; x++) out[((b * c.t + i) * c.h + h) * c.d + x] += p * vj[x];
        }
      }
    }
  }
  return { out, lse };
}

describe('attention vs explicit masked softmax(QK^T)V', () => {
  it.each<[string, Case]>([
    ['self-attention, GQA 1', { b: 1, t: 5, s: 5, h: 2, hkv: 2, d: 4 }],
    ['GQA 2, odd sizes', { b: 2, t: 7, s: 7, h: 6, hkv: 3, d: 5 }],
    ['GQA 4, T = 1 decode on a cache (default qOffset = S - T)', { b: 2, t: 1, s: 9, h: 4, hkv: 1, d: 3 }],
    ['KV prefix + left padding', { b: 3, t: 4, s: 7, h: 4, hkv: 2, d: 3, qOffset: [3, 3, 3], kvStart: [0, 2, 5] }],
    ['rows with different offsets (ragged batch)', { b: 2, t: 2, s: 6, h: 2, hkv: 1, d: 2, qOffset: [4, 1], kvStart: [1, 0] }],
  ])('%s', (_name, c) => {
    const rng = new Rng(11);
    const q = randomF32(rng, c.b * c.t * c.h * c.d);
    const k = randomF32(rng, c.b * c.s * c.hkv * c.d);
    const v = randomF32(rng, c.b * c.s * c.hkv * c.d);
    const want = naiveAttention(c, q, k, v, 1 / Math.sqrt(c.d));
    const got = attention(
      tensor(q, [c.b, c.t, c.h, c.d], ref),
      tensor(k, [c.b, c.s, c.hkv, c.d], ref),
      tensor(v, [c.b, c.s, c.hkv, c.d], ref),
      {
        qOffset: c.qOffset,
        kvStart: c.kvStart,
      },
    );
    expect(got.out.toHost()).toBeAllClose(want.out, f32tol);
    expect(got.lse.toHost()).toBeAllClose(want.lse, f32tol);
  });

  it('a query with no visible key gets out = 0 and lse = -Infinity', () => {
    const q = tensor(new Float32Array(2 * 1 * 2).fill(1), [1, 2, 1, 2], ref);
    const k = tensor(new Float32Array(3 * 2).fill(1), [1, 3, 1, 2], ref);
    const { out, lse } = attention(q, k, k, { qOffset: 0, kvStart: 1 });
    expect(Array.from(out.toHost())).toEqual([0, 0, 1, 1]);
    expect(Array.from(lse.toHost())).toEqual([-Infinity, Math.log(Math.exp(Math.SQRT2))].map(Math.fround));
  });

  it('rejects H not a multiple of Hkv and mismatched offsets, naming the op and tensor', () => {
    const q = tensor(new Float32Array(3 * 2), [1, 1, 3, 2], ref);
    const k = tensor(new Float32Array(2 * 2), [1, 1, 2, 2], ref);
    expect(() => attention(q, k, k)).toThrow(/attention: query heads H = 3 must be a multiple of kv heads Hkv = 2/);
    const k1 = tensor(new Float32Array(2), [1, 1, 1, 2], ref);
    expect(() => attention(q, k1, k1, { qOffset: [0, 0] })).toThrow(/attention: qOffset has 2 values/);
    expect(() => attention(q, k1, tensor(new Float32Array(4), [1, 2, 1, 2], ref))).toThrow(/attention: v has shape/);
  });

  it('reads head-major k/v (B, Hkv, S, D) with kvLayout bhsd (its Hkv from dim 1), forward only, and names a bad layout', () => {
    const q = tensor(new Float32Array(4 * 2).fill(1), [1, 1, 4, 2], ref);
    const kHeadMajor = tensor(new Float32Array(2 * 3 * 2), [1, 2, 3, 2], ref); // Hkv 2, S 3: 'bshd' would read Hkv 3
    expect(attention(q, kHeadMajor, kHeadMajor, { kvLayout: 'bhsd' }).lse.shape).toEqual([1, 4, 1]);
    expect(() => attention(q, kHeadMajor, kHeadMajor)).toThrow(/query heads H = 4 must be a multiple of kv heads Hkv = 3/);
    const { out, lse } = attention(q, kHeadMajor, kHeadMajor, { kvLayout: 'bhsd' });
    expect(() => attentionBackward(q, kHeadMajor, kHeadMajor, out, lse, out, { kvLayout: 'bhsd' })).toThrow(
      /attentionBackward: kvLayout 'bhsd' is forward-only/,
    );
    expect(() => attention(q, kHeadMajor, kHeadMajor, { kvLayout: 'bsdh' as 'bhsd' })).toThrow(/kvLayout must be 'bshd' or 'bhsd'/);
  });
});

describe('rope (Hugging Face rotate-half)', () => {
  it('rotates the pairs (i, i + D/2) by pos * theta^(-2i/D), written out for D = 4', () => {
    const x = [0.3, -1.2, 2.0, 0.7];
    const pos = 5;
    const theta = 100;
    const got = rope(tensor(x, [1, 1, 1, 4], ref), tensor(Int32Array.from([pos]), [1, 1], ref), theta).toHost();
    const a0 = pos * 1; // i = 0: theta^0
    const a1 = pos / 10; // i = 1: theta^(-2/4) = 1/10
    const want = [
      x[0] * Math.cos(a0) - x[2] * Math.sin(a0),
      x[1] * Math.cos(a1) - x[3] * Math.sin(a1),
      x[2] * Math.cos(a0) + x[0] * Math.sin(a0),
      x[3] * Math.cos(a1) + x[1] * Math.sin(a1),
    ];
    expect(got).toBeAllClose(want, f32tol);
  });

  it('scores depend only on relative position, and inverse undoes it (in place too)', () => {
    const rng = new Rng(12);
    const d = 8;
    const qk = randomF32(rng, 2 * d);
    const at = (p0: number, p1: number) => {
      const y = rope(tensor(qk.slice(), [1, 2, 1, d], ref), tensor(Int32Array.from([p0, p1]), [1, 2], ref), 10000).toHost();
      return dot(y.subarray(0, d), y.subarray(d));
    };
    expect([at(3, 10)]).toBeAllClose([at(1003, 1010)], { atol: 1e-5, rtol: 1e-5 });
    const x = tensor(qk.slice(), [1, 2, 1, d], ref);
    const pos = tensor(Int32Array.from([16000, 16383]), [1, 2], ref);
    const y = rope(x, pos, 10000, { inPlace: true });
    expect(y).toBe(x);
    rope(x, pos, 10000, { inverse: true, inPlace: true });
    expect(x.toHost()).toBeAllClose(qk, f32tol);
  });
});

describe('matmul by hand', () => {
  it('2x3 @ 3x2, its transposed forms, a shared-B batch, alpha and accumulate', () => {
    const a = [1, 2, 3, 4, 5, 6]; // [[1, 2, 3], [4, 5, 6]]
    const b = [7, 8, 9, 10, 11, 12]; // [[7, 8], [9, 10], [11, 12]]
    const ab = [58, 64, 139, 154]; // [[1*7+2*9+3*11, 1*8+2*10+3*12], [4*7+5*9+6*11, 4*8+5*10+6*12]]
    const aT = [1, 4, 2, 5, 3, 6]; // a stored transposed (3, 2)
    const bT = [7, 9, 11, 8, 10, 12]; // b stored transposed (2, 3)
    const t = (v: number[], shape: number[]) => tensor(v, shape, ref);
    expect(Array.from(matmul(t(a, [2, 3]), t(b, [3, 2])).toHost())).toEqual(ab);
    expect(Array.from(matmul(t(aT, [3, 2]), t(bT, [2, 3]), { transA: true, transB: true }).toHost())).toEqual(ab);
    const batched = matmul(t([...a, ...a.map((x) => -x)], [2, 2, 3]), t(b, [3, 2]), { alpha: 0.5 });
    expect(Array.from(batched.toHost())).toEqual([...ab, ...ab.map((x) => -x)].map((x) => x / 2));
    const acc = t([1, 1, 1, 1], [2, 2]);
    matmul(t(a, [2, 3]), t(b, [3, 2]), { out: acc, accumulate: true });
    expect(Array.from(acc.toHost())).toEqual(ab.map((x) => x + 1));
  });
});

describe('rmsnorm and swiglu vs their formulas', () => {
  it('rmsnorm over the last dim of a 3-D x', () => {
    const rng = new Rng(13);
    const x = randomF32(rng, 2 * 3 * 5);
    const w = randomF32(rng, 5);
    const { y, rstd } = rmsnorm(tensor(x, [2, 3, 5], ref), tensor(w, [5], ref), 1e-5);
    expect(y.shape).toEqual([2, 3, 5]);
    const wantY: number[] = [];
    const wantR: number[] = [];
    for (let r = 0; r < 6; r++) {
      const row = Array.from(x.subarray(r * 5, r * 5 + 5));
      const rms = Math.sqrt(row.reduce((s, a) => s + a * a, 0) / 5 + 1e-5);
      wantR.push(1 / rms);
      row.forEach((a, j) => wantY.push((a / rms) * w[j]));
    }
    expect(y.toHost()).toBeAllClose(wantY, f32tol);
    expect(rstd.toHost()).toBeAllClose(wantR, f32tol);
    expect(() => rmsnorm(tensor(x, [6, 5], ref), tensor(w.subarray(0, 4), [4], ref))).toThrow(/rmsnorm: w has shape \[4\], expected \[5\]/);
  });

  it('swiglu = gate * sigmoid(gate) * up', () => {
    const gate = [-30, -1, 0, 0.5, 4];
    const up = [2, 3, 5, -1, 0.25];
    const got = swiglu(tensor(gate, [5], ref), tensor(up, [5], ref)).toHost();
    expect(got).toBeAllClose(
      gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]),
      f32tol,
    );
  });
});
