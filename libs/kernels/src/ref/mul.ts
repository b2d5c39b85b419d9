// ref mul: out = a * b in float64, b suffix-broadcast (b[i % nb], e.g. a gain (C,) against (N, C)).
import type { ElementwiseArgs } from '../kernel-signatures';
import type { Buf, Vec } from './arrays';

export function mulArrays(a: Vec, b: Vec, out: Buf, n: number, nb: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] * b[i % nb];
}

export function mulForward({ a, b, out }: ElementwiseArgs): void {
  mulArrays(a.f32, b.f32, out.f32, a.size, b.size);
}
