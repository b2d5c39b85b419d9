// cpu attention kernels: dimensions off the tensors, then one native call each (flash-style forward,
// two-pass recomputing backward; see native/attention_fwd.cpp and attention_bwd.cpp). The forward takes k/v in
// either layout (kv-layout.ts), the backward 'bshd' only.
import type { KernelSignatures } from '../kernel-signatures';
import { kvShape } from '../kv-layout';
import type { NativeAddon } from './native';
import { f32, i32 } from './views';

export function attentionKernels(addon: NativeAddon): Pick<KernelSignatures, 'attentionForward' | 'attentionBackward'> {
  return {
    attentionForward({ q, k, v, qOffset, kvStart, scale, kvLayout, out, lse }) {
      const [b, t, h, d] = q.shape;
      const [, s, hkv] = kvShape(k, kvLayout);
      const headMajor = kvLayout === 'bhsd';
      addon.attentionForward(f32(q), f32(k), f32(v), i32(qOffset), i32(kvStart), f32(out), f32(lse), b, t, s, h, hkv, d, scale, headMajor);
    },
    attentionBackward({ q, k, v, qOffset, kvStart, scale, kvLayout, out, lse, dOut, dq, dk, dv }) {
      if (kvLayout !== 'bshd') throw new Error(`attentionBackward (cpu): k/v must be 'bshd', got '${kvLayout}'`);
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
