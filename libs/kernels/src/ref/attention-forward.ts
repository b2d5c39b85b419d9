// ref causal grouped-query attention forward: one query at a time, one score row of length S in float64
// (two passes: max and scores, then exp-sum and weighted values), so memory is O(S) per query, never (T, S).
// q (B, T, H, D), k and v (B, S, Hkv, D) or head-major (B, Hkv, S, D) (kvLayout 'bhsd'; kvOffset indexes
// either), out (B, T, H, D), lse (B, H, T). Query head h reads kv head
// floor(h / (H / Hkv)) (Hugging Face repeat_kv order). Query i of row b sees keys kvStart[b] <= j <= qOffset[b] + i.
import type { AttentionArgs } from '../kernel-signatures';
import { kvShape, type KvLayout } from '../kv-layout';
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export interface AttentionDims {
  b: number;
  t: number;
  s: number;
  h: number;
  hkv: number;
  d: number;
  /** k/v layout; default 'bshd' */
  kvLayout?: KvLayout;
}

/** Offset of key j of (row bb, kv head g) in k or v. */
export function kvOffset(dims: AttentionDims, bb: number, j: number, g: number): number {
  const { s, hkv, d } = dims;
  return dims.kvLayout === 'bhsd' ? ((bb * hkv + g) * s + j) * d : ((bb * s + j) * hkv + g) * d;
}

export interface AttentionArrays {
  q: Vec;
  k: Vec;
  v: Vec;
  qOffset: Vec; // (B,)
  kvStart: Vec; // (B,)
}

/** The visible key range [lo, hi] of query i in row bb (empty when hi < lo). */
export function visibleKeys(a: AttentionArrays, dims: AttentionDims, bb: number, i: number): [number, number] {
  const lo = Math.max(0, a.kvStart[bb]);
  const hi = Math.min(dims.s - 1, a.qOffset[bb] + i);
  return [lo, hi];
}

export function attentionDims(q: Tensor, k: Tensor, kvLayout: KvLayout = 'bshd'): AttentionDims {
  const [b, t, h, d] = q.shape;
  const [, s, hkv] = kvShape(k, kvLayout);
  return { b, t, s, h, hkv, d, kvLayout };
}

export function attentionForwardArrays(a: AttentionArrays, dims: AttentionDims, scale: number, out: Buf, lse: Buf): void {
  const { b, t, s, h, hkv, d } = dims;
  const group = h / hkv;
  const scores = new Float64Array(s); // (S,) one query's scaled scores
  const acc = new Float64Array(d); // (D,) weighted value sum
  for (let bb = 0; bb < b; bb++) {
    for (let i = 0; i < t; i++) {
      const [lo, hi] = visibleKeys(a, dims, bb, i);
      for (let hh = 0; hh < h; hh++) {
        const g = Math.floor(hh / group);
        const qo = ((bb * t + i) * h + hh) * d;
        const lseAt = (bb * h + hh) * t + i;
        if (hi < lo) {
          for (let x = 0; x < d; x++) out[qo + x] = 0;
          lse[lseAt] = -Infinity;
          continue;
        }
        let max = -Infinity;
        for (let j = lo; j <= hi; j++) {
          const ko = kvOffset(dims, bb, j, g);
          let dot = 0;
          for (let x = 0; x < d; x++) dot += a.q[qo + x] * a.k[ko + x];
          scores[j] = dot * scale;
          if (scores[j] > max) max = scores[j];
        }
        acc.fill(0);
        let sum = 0;
        for (let j = lo; j <= hi; j++) {
          const p = Math.exp(scores[j] - max);
          sum += p;
          const vo = kvOffset(dims, bb, j, g);
          for (let x = 0; x < d; x++) acc[x] += p * a.v[vo + x];
        }
        for (let x = 0; x < d; x++) out[qo + x] = acc[x] / sum;
        lse[lseAt] = max + Math.log(sum);
      }
    }
  }
}

export function attentionForward(args: AttentionArgs & { out: Tensor; lse: Tensor }): void {
  const { q, k, v, qOffset, kvStart, scale, kvLayout, out, lse } = args;
  const arrays = { q: q.f32, k: k.f32, v: v.f32, qOffset: qOffset.i32, kvStart: kvStart.i32 };
  attentionForwardArrays(arrays, attentionDims(q, k, kvLayout), scale, out.f32, lse.f32);
}
