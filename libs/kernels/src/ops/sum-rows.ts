// sumRows op: reduce a (..., C) over every leading dim to (C,): the backward of a broadcast bias add.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, outputOr, rowsAndCols } from './checks';

/** (C,) column sums of a (N, C); with opts.out and accumulate, adds into out (a gradient buffer). */
export function sumRows(a: Tensor, opts: { out?: Tensor; accumulate?: boolean } = {}): Tensor {
  expectDtype('sumRows', 'a', a, 'f32');
  const { cols } = rowsAndCols('sumRows', 'a', a);
  const out = outputOr('sumRows', 'out', opts.out, [cols], a.device);
  getKernel('sumRowsForward', a.device)({ a, out, accumulate: opts.accumulate ?? false });
  return out;
}
