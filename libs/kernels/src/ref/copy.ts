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

export function fillForward({ out, value }: { out: Tensor; value: number }): void {
  out.data.fill(value);
}
