// matmul op: checks shapes, allocates the output on the inputs' device, dispatches to that device's kernel.
import { getKernel } from '../registry';
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
}

/** alpha * op(a) @ op(b): (M, K) @ (K, N) -> (M, N), optionally batched over a leading dim. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const device = sameDevice('matmul', a, b);
  const { batch, m, n } = gemmDims(a, b, transA, transB);
  const shape = a.rank === 3 ? [batch, m, n] : [m, n];
  const out = outputOr('matmul', 'out', opts.out, shape, device);
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
  });
  return out;
}
