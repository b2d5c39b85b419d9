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

export function copyAtForward({ src, out, at, heads }: { src: Tensor; out: Tensor; at: Int32Array; heads: number }): void {
  const [B, T] = src.shape;
  const e = src.size / (B * T * heads); // values per (position, head)
  const S = out.size / (B * heads * e); // out (B, S, E...) or (B, heads, S, E)
  const from = src.data;
  const to = out.data;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < heads; h++) {
        for (let x = 0; x < e; x++) to[((b * heads + h) * S + at[b] + t) * e + x] = from[((b * T + t) * heads + h) * e + x];
      }
    }
  }
}

export function fillForward({ out, value }: { out: Tensor; value: number }): void {
  out.data.fill(value);
}
