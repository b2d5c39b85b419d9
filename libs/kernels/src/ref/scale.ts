// ref scale: out = alpha * a + beta * out (beta = 0 never reads out, so out may hold garbage or NaN).
// Serves scale, axpy and in-place gradient clipping (a and out may be the same tensor).
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export function scaleArrays(a: Vec, out: Buf, n: number, alpha: number, beta: number): void {
  if (beta === 0) for (let i = 0; i < n; i++) out[i] = alpha * a[i];
  else for (let i = 0; i < n; i++) out[i] = alpha * a[i] + beta * out[i];
}

export function scaleForward({ a, out, alpha, beta }: { a: Tensor; out: Tensor; alpha: number; beta: number }): void {
  scaleArrays(a.f32, out.f32, a.size, alpha, beta);
}
