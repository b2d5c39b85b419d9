// ref sumRows: out[c] (+)= sum over rows r of a[r, c], float64 accumulation per column.
// a (N, C) (any leading dims flattened into N), out (C,). The backward of a suffix-broadcast add.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export function sumRowsArrays(a: Vec, out: Buf, n: number, c: number, accumulate: boolean): void {
  for (let j = 0; j < c; j++) {
    let acc = 0;
    for (let r = 0; r < n; r++) acc += a[r * c + j];
    out[j] = accumulate ? out[j] + acc : acc;
  }
}

export function sumRowsForward({ a, out, accumulate }: { a: Tensor; out: Tensor; accumulate: boolean }): void {
  const c = out.size;
  sumRowsArrays(a.f32, out.f32, c === 0 ? 0 : a.size / c, c, accumulate);
}
