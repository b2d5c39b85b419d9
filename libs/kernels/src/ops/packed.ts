// Matrices packed once for many matmuls (issue #10). A batched decode step multiplies every weight by a few
// rows, and the cpu GEMM spends much of such a call packing op(W) into its register-tile panels (the whole of
// W, for a handful of rows). packMatmulB does that once; matmul(x, w, { transB, packedB }) then skips it.
// Only the cpu backend has a packed form: elsewhere (and with an addon built before it) this returns null and
// callers go on without. The packing is a copy, valid while w's values are unchanged: its owner disposes it
// (`data`) before w changes (the rollout packs at its first batched decode step and drops it when idle).
import { ALIGN_MIN_VALUES } from '../backend';
import { zeros } from '../create';
import { loadAddon } from '../cpu/native';
import type { PackedMatrix } from '../kernel-signatures';
import type { Tensor } from '../tensor';

/** op(b) (K, N) packed for the cpu GEMM (b is (N, K) when transB), or null where there is no packed form (or no values). */
export function packMatmulB(b: Tensor, opts: { transB?: boolean } = {}): PackedMatrix | null {
  const transB = opts.transB ?? false;
  if (b.device !== 'cpu' || b.rank !== 2 || b.dtype !== 'f32') return null;
  const load = loadAddon();
  if (!('addon' in load) || typeof load.addon.packMatmulB !== 'function') return null;
  const addon = load.addon;
  const [n, k] = transB ? b.shape : [b.shape[1], b.shape[0]];
  if (k === 0 || n === 0) return null; // an empty product: nothing to pack (the native layout divided by k's slices)
  const [kc, nr, floats] = addon.packedMatmulLayout(n, k);
  // the micro-kernels load the panels with aligned vector loads: the cpu backend aligns buffers of at least
  // ALIGN_MIN_VALUES to a cache line (a small matrix gets a longer buffer for that)
  const data = zeros([Math.max(floats, ALIGN_MIN_VALUES)], { device: 'cpu' });
  addon.packMatmulB(b.kernelData() as Float32Array, n, k, transB, data.kernelData() as Float32Array);
  return { source: b, transB, data, kc, nr };
}
