// RMSNorm ops over the last dim: x (..., C), w (C,) -> y (..., C) and the saved rstd (rows,); backward
// returns dx and accumulates dw (so one dw buffer can collect every call site of a shared weight).
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectShape, outputOr, rowsAndCols, sameDevice } from './checks';

function checkNorm(op: string, x: Tensor, w: Tensor): { rows: number; cols: number } {
  expectDtype(op, 'x', x, 'f32');
  expectDtype(op, 'w', w, 'f32');
  const rc = rowsAndCols(op, 'x', x);
  expectShape(op, 'w', w, [rc.cols]);
  return rc;
}

/**
 * y = x / sqrt(mean(x^2) + eps) * w, row-wise over the last dim. rstd (N,) is kept for the backward.
 * `opts.y` / `opts.rstd` receive the results instead of fresh tensors.
 */
export function rmsnorm(x: Tensor, w: Tensor, eps = 1e-6, opts: { y?: Tensor; rstd?: Tensor } = {}): { y: Tensor; rstd: Tensor } {
  const device = sameDevice('rmsnorm', x, w);
  const { rows, cols } = checkNorm('rmsnorm', x, w);
  const y = outputOr('rmsnorm', 'y', opts.y, x.shape, device, 'f32', true);
  const rstd = outputOr('rmsnorm', 'rstd', opts.rstd, [rows], device, 'f32', true);
  const flatX = x.reshape([rows, cols]);
  const flatY = y.reshape([rows, cols]);
  getKernel('rmsnormForward', device)({ x: flatX, w, eps, y: flatY, rstd });
  flatX.dispose();
  flatY.dispose();
  return { y, rstd };
}

/** dx (same shape as x; written into opts.dx when given); dw (C,) += this call's weight gradient. */
export function rmsnormBackward(dy: Tensor, x: Tensor, w: Tensor, rstd: Tensor, dw: Tensor, opts: { dx?: Tensor } = {}): { dx: Tensor } {
  const device = sameDevice('rmsnormBackward', dy, x, w, rstd, dw);
  const { rows, cols } = checkNorm('rmsnormBackward', x, w);
  expectShape('rmsnormBackward', 'dy', dy, x.shape);
  expectShape('rmsnormBackward', 'rstd', rstd, [rows]);
  expectShape('rmsnormBackward', 'dw', dw, [cols]);
  const dx = outputOr('rmsnormBackward', 'dx', opts.dx, x.shape, device, 'f32', true);
  const flat = [rows, cols];
  const views = { dy: dy.reshape(flat), x: x.reshape(flat), dx: dx.reshape(flat) };
  getKernel('rmsnormBackward', device)({ dy: views.dy, x: views.x, dx: views.dx, w, rstd, dw }); // not a spread: see attention()
  for (const v of Object.values(views)) v.dispose();
  return { dx };
}
