// cpu attention kernels: dimensions off the tensors, then one native call each (flash-style forward,
// two-pass recomputing backward; see native/attention_fwd.cpp and attention_bwd.cpp).
import type { KernelSignatures } from '../kernel-signatures';
import type { NativeAddon } from './native';
import { f32, i32 } from './views';

export function attentionKernels(addon: NativeAddon): Pick<KernelSignatures, 'attentionForward' | 'attentionBackward'> {
  return {
    attentionForward({ q, k, v, qOffset, kvStart, scale, out, lse }) {
      const [b, t, h, d] = q.shape;
      const [, s, hkv] = k.shape;
      addon.attentionForward(f32(q), f32(k), f32(v), i32(qOffset), i32(kvStart), f32(out), f32(lse), b, t, s, h, hkv, d, scale);
    },
    attentionBackward({ q, k, v, qOffset, kvStart, scale, out, lse, dOut, dq, dk, dv }) {
      const [b, t, h, d] = q.shape;
      const [, s, hkv] = k.shape;
      addon.attentionBackward(
        f32(q),
        f32(k),
        f32(v),
        i32(qOffset),
        i32(kvStart),
        f32(out),
        f32(lse),
        f32(dOut),
        f32(dq),
        f32(dk),
        f32(dv),
        b,
        t,
        s,
        h,
        hkv,
        d,
        scale,
      );
    },
  };
}
