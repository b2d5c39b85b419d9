// Softmax ops over the last dim: softmax(x) and logSoftmax(x), x (..., V) -> same shape.
import { getKernel } from '../registry';
import { zeros } from '../create';
import type { Tensor } from '../tensor';
import { expectDtype, rowsAndCols } from './checks';

function run(op: string, x: Tensor, log: boolean): Tensor {
  expectDtype(op, 'x', x, 'f32');
  const { rows, cols } = rowsAndCols(op, 'x', x);
  const out = zeros(x.shape, { device: x.device });
  getKernel('softmaxForward', x.device)({ x: x.reshape([rows, cols]), out: out.reshape([rows, cols]), log });
  return out;
}

export function softmax(x: Tensor): Tensor {
  return run('softmax', x, false);
}

export function logSoftmax(x: Tensor): Tensor {
  return run('logSoftmax', x, true);
}
