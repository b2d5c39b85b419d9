// ref copy and fill: out = src element for element (f32 or i32), and out[i] = value. The host data movement
// every backend offers as kernels (copyForward, fillForward), so model code never touches host arrays.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export function copyArrays(src: Vec, out: Buf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = src[i];
}

export function copyForward({ src, out }: { src: Tensor; out: Tensor }): void {
  copyArrays(src.data, out.data, src.size);
}

export function copyAtForward({ src, out, at }: { src: Tensor; out: Tensor; at: Int32Array }): void {
  const [B, T] = src.shape;
  const S = out.shape[1];
  const e = src.size / (B * T); // values per position
  const from = src.data;
  const to = out.data;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T * e; i++) to[(b * S + at[b]) * e + i] = from[b * T * e + i];
  }
}

export function fillForward({ out, value }: { out: Tensor; value: number }): void {
  out.data.fill(value);
}
