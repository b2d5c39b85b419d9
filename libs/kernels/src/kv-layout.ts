// Layout of attention's k and v (and of the KV cache): 'bshd' (B, S, Hkv, D), training's and the default, or
// head-major 'bhsd' (B, Hkv, S, D), the KV cache's: one kv head's keys contiguous, so the decode attention reads
// whole rows instead of every Hkv-th slice of them (#10). Shared by the op checks and every backend's wrapper.
import type { Tensor } from './tensor';

export type KvLayout = 'bshd' | 'bhsd';

/** [B, S, Hkv, D] of a k or v tensor in the given layout. */
export function kvShape(k: Tensor, kvLayout: KvLayout): [number, number, number, number] {
  const [b, x, y, d] = k.shape;
  return kvLayout === 'bhsd' ? [b, y, x, d] : [b, x, y, d];
}
