// RMSNorm ops over the last dim: x (..., C), w (C,) -> y (..., C) and the saved rstd (rows,); backward
// returns dx and accumulates dw (so one dw buffer can collect every call site of a shared weight).
import { getKernel } from '../registry';
import { zeros } from '../create';
import type { Tensor } from '../tensor';
import { expectDtype, expectShape, rowsAndCols, sameDevice } from './checks';

function checkNorm(op: string, x: Tensor, w: Tensor): { rows: number; cols: number } {
  expectDtype(op, 'x', x, 'f32');
  expectDtype(op, 'w', w, 'f32');
  const rc = rowsAndCols(op, 'x', x);
  expectShape(op, 'w', w, [rc.cols]);
  return rc;
}

/** y = x / sqrt(mean(x^2) + eps) * w, row-wise over the last dim. rstd (N,) is kept for the backward. */
export function rmsnorm(x: Tensor, w: Tensor, eps = 1e-6): { y: Tensor; rstd: Tensor } {
  const device = sameDevice('rmsnorm', x, w);
  const { rows, cols } = checkNorm('rmsnorm', x, w);
  const y = zeros(x.shape, { device });
  const rstd = zeros([rows], { device });
  getKernel('rmsnormForward', device)({ x: x.reshape([rows, cols]), w, eps, y: y.reshape([rows, cols]), rstd });
  return { y, rstd };
}

/** dx (same shape as x); dw (C,) += this call's weight gradient. */
export function rmsnormBackward(dy: Tensor, x: Tensor, w: Tensor, rstd: Tensor, dw: Tensor): { dx: Tensor } {
  const device = sameDevice('rmsnormBackward', dy, x, w, rstd, dw);
  const { rows, cols } = checkNorm('rmsnormBackward', x, w);
  expectShape('rmsnormBackward', 'dy', dy, x.shape);
  expectShape('rmsnormBackward', 'rstd', rstd, [rows]);
  expectShape('rmsnormBackward', 'dw', dw, [cols]);
  const dx = zeros(x.shape, { device });
  const flat = [rows, cols];
  getKernel(
    'rmsnormBackward',
    device,
  )({
    dy: dy.reshape(flat),
    x: x.reshape(flat),
    w,
    rstd,
    dx: dx.reshape(flat),
    dw,
  });
  return { dx };
}
