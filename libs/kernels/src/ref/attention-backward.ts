// ref attention backward: per query, recompute p_j = exp(scale q.k_j - lse) from the saved lse, then
// dS_j = p_j (dO.v_j - dO.out), dq = scale sum dS_j k_j, dk_j += scale dS_j q, dv_j += p_j dO.
// dk/dv accumulate in float64 buffers the size of k (O(S) per head), then are written once.
// Queries with no visible key (lse = -Infinity) contribute nothing.
import type { AttentionArgs } from '../kernel-signatures';
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';
import { attentionDims, visibleKeys, type AttentionArrays, type AttentionDims } from './attention-forward';

export interface AttentionGradArrays {
  out: Vec; // (B, T, H, D)
  lse: Vec; // (B, H, T)
  dOut: Vec; // (B, T, H, D)
  dq: Buf; // (B, T, H, D) overwritten
  dk: Buf; // (B, S, Hkv, D) overwritten
  dv: Buf; // (B, S, Hkv, D) overwritten
}

export function attentionBackwardArrays(a: AttentionArrays, g: AttentionGradArrays, dims: AttentionDims, scale: number): void {
  const { b, t, s, h, hkv, d } = dims;
  const group = h / hkv;
  const dk = new Float64Array(b * s * hkv * d); // (B, S, Hkv, D)
  const dv = new Float64Array(b * s * hkv * d); // (B, S, Hkv, D)
  const dq = new Float64Array(d); // (D,) one query's gradient
  for (let bb = 0; bb < b; bb++) {
    for (let i = 0; i < t; i++) {
      const [lo, hi] = visibleKeys(a, dims, bb, i);
      for (let hh = 0; hh < h; hh++) {
        const kvh = Math.floor(hh / group);
        const qo = ((bb * t + i) * h + hh) * d;
        const lse = g.lse[(bb * h + hh) * t + i];
        dq.fill(0);
        if (hi >= lo && lse !== -Infinity) {
          let delta = 0;
          for (let x = 0; x < d; x++) delta += g.dOut[qo + x] * g.out[qo + x];
          for (let j = lo; j <= hi; j++) {
            const ko = ((bb * s + j) * hkv + kvh) * d;
            let dot = 0;
            let dp = 0;
            for (let x = 0; x < d; x++) {
              dot += a.q[qo + x] * a.k[ko + x];
              dp += g.dOut[qo + x] * a.v[ko + x];
            }
            const p = Math.exp(dot * scale - lse);
            const ds = p * (dp - delta) * scale;
            for (let x = 0; x < d; x++) {
              dq[x] += ds * a.k[ko + x];
              dk[ko + x] += ds * a.q[qo + x];
              dv[ko + x] += p * g.dOut[qo + x];
            }
          }
        }
        for (let x = 0; x < d; x++) g.dq[qo + x] = dq[x];
      }
    }
  }
  for (let n = 0; n < dk.length; n++) {
    g.dk[n] = dk[n];
    g.dv[n] = dv[n];
  }
}

export function attentionBackward(
  args: AttentionArgs & { out: Tensor; lse: Tensor; dOut: Tensor; dq: Tensor; dk: Tensor; dv: Tensor },
): void {
  const { q, k, v, qOffset, kvStart, scale } = args;
  const arrays = { q: q.f32, k: k.f32, v: v.f32, qOffset: qOffset.i32, kvStart: kvStart.i32 };
  const grads = { out: args.out.f32, lse: args.lse.f32, dOut: args.dOut.f32, dq: args.dq.f32, dk: args.dk.f32, dv: args.dv.f32 };
  attentionBackwardArrays(arrays, grads, attentionDims(q, k), scale);
}
