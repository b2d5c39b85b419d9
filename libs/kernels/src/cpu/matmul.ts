// cpu matmul: shapes through the shared gemmDims rules, then one native call (packed GEMM or GEMV; with a
// pre-packed op(b), ops/packed.ts, the GEMM skips packing it).
import type { MatmulArgs } from '../kernel-signatures';
import { gemmDims } from '../ops/matmul-shapes';
import type { NativeAddon } from './native';
import { f32 } from './views';

export function matmulKernel(addon: NativeAddon) {
  return ({ a, b, out, transA, transB, alpha, accumulate, packedB }: MatmulArgs): void => {
    const { batch, m, n, k, bBatched } = gemmDims(a, b, transA, transB);
    if (packedB) {
      const { data, kc, nr } = packedB;
      addon.matmulForward(f32(a), f32(b), f32(out), batch, m, n, k, bBatched, transA, transB, alpha, accumulate, f32(data), kc, nr);
    } else addon.matmulForward(f32(a), f32(b), f32(out), batch, m, n, k, bBatched, transA, transB, alpha, accumulate);
  };
}
