// ref RMSNorm forward and backward, float64 per row. x (N, C), w (C,), y (N, C), rstd (N,).
// y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps). No bias, no mean subtraction (that is LayerNorm).
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export function rmsnormForwardArrays(x: Vec, w: Vec, y: Buf, rstd: Buf, n: number, c: number, eps: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c;
    let ss = 0;
    for (let j = 0; j < c; j++) ss += x[o + j] * x[o + j];
    const rs = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) y[o + j] = x[o + j] * rs * w[j];
    rstd[r] = rs;
  }
}

/**
 * dx = rstd * (dy * w) - rstd^3 / C * x * sum_j(dy_j w_j x_j)  (overwritten);  dw += sum_rows dy * x * rstd.
 * Uses the saved rstd, as the forward computed it.
 */
export function rmsnormBackwardArrays(dy: Vec, x: Vec, w: Vec, rstd: Vec, dx: Buf, dw: Buf, n: number, c: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c;
    const rs = rstd[r];
    let dot = 0;
    for (let j = 0; j < c; j++) dot += dy[o + j] * w[j] * x[o + j];
    const k = (rs * rs * rs * dot) / c;
    for (let j = 0; j < c; j++) dx[o + j] = rs * dy[o + j] * w[j] - k * x[o + j];
  }
  for (let j = 0; j < c; j++) {
    let acc = 0;
    for (let r = 0; r < n; r++) acc += dy[r * c + j] * x[r * c + j] * rstd[r];
    dw[j] += acc;
  }
}

export function rmsnormForward(args: { x: Tensor; w: Tensor; eps: number; y: Tensor; rstd: Tensor }): void {
  const c = args.w.size;
  rmsnormForwardArrays(args.x.f32, args.w.f32, args.y.f32, args.rstd.f32, args.rstd.size, c, args.eps);
}

export function rmsnormBackward(args: { dy: Tensor; x: Tensor; w: Tensor; rstd: Tensor; dx: Tensor; dw: Tensor }): void {
  const { dy, x, w, rstd, dx, dw } = args;
  rmsnormBackwardArrays(dy.f32, x.f32, w.f32, rstd.f32, dx.f32, dw.f32, rstd.size, w.size);
}
