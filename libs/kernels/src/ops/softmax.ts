// Softmax ops over the last dim: softmax(x) and logSoftmax(x), x (..., V) -> same shape.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, outputOr, rowsAndCols } from './checks';

function run(op: string, x: Tensor, log: boolean, into: Tensor | undefined): Tensor {
  expectDtype(op, 'x', x, 'f32');
  const { rows, cols } = rowsAndCols(op, 'x', x);
  const out = outputOr(op, 'out', into, x.shape, x.device, 'f32', true);
  const flatX = x.reshape([rows, cols]);
  const flatOut = out.reshape([rows, cols]);
  getKernel('softmaxForward', x.device)({ x: flatX, out: flatOut, log });
  flatX.dispose();
  flatOut.dispose();
  return out;
}

export function softmax(x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  return run('softmax', x, false, opts.out);
}

export function logSoftmax(x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  return run('logSoftmax', x, true, opts.out);
}
