// matmul op: checks shapes, allocates the output on the inputs' device, dispatches to that device's kernel.
import { getKernel } from '../registry';
import type { PackedMatrix } from '../kernel-signatures';
import type { Tensor } from '../tensor';
import { gemmDims } from './matmul-shapes';
import { outputOr, sameDevice } from './checks';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** write here instead of allocating; with `accumulate`, add to its contents */
  out?: Tensor;
  accumulate?: boolean;
  /** `b` packed once by packMatmulB (ops/packed.ts): the cpu GEMM skips packing it; other backends ignore it */
  packedB?: PackedMatrix | null;
}

/** alpha * op(a) @ op(b): (M, K) @ (K, N) -> (M, N), optionally batched over a leading dim. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const device = sameDevice('matmul', a, b);
  const { batch, m, n } = gemmDims(a, b, transA, transB);
  const shape = a.rank === 3 ? [batch, m, n] : [m, n];
  // without accumulation the GEMM writes every value of C (BLAS's beta = 0: C is never read)
  const out = outputOr('matmul', 'out', opts.out, shape, device, 'f32', !(opts.accumulate ?? false));
  const packedB = opts.packedB ?? undefined;
  if (packedB && (packedB.source !== b || packedB.transB !== transB || packedB.data.isDisposed)) {
    const why = packedB.data.isDisposed
      ? 'it was disposed'
      : packedB.source !== b
        ? 'it packs another tensor'
        : `it was packed with transB ${packedB.transB}`;
    throw new Error(
      `matmul: packedB does not belong to this call (${why}); pack b with packMatmulB(b, { transB }) and pass it with that b`,
    );
  }
  getKernel(
    'matmulForward',
    device,
  )({
    a,
    b,
    out,
    transA,
    transB,
    alpha: opts.alpha ?? 1,
    accumulate: opts.accumulate ?? false,
    packedB,
  });
  return out;
}
