// ref add: out = a + b in float64, b suffix-broadcast (b[i % nb], e.g. a bias (C,) against (N, C)).
import type { ElementwiseArgs } from '../kernel-signatures';
import type { Buf, Vec } from './arrays';

export function addArrays(a: Vec, b: Vec, out: Buf, n: number, nb: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i % nb];
}

export function addForward({ a, b, out }: ElementwiseArgs): void {
  addArrays(a.f32, b.f32, out.f32, a.size, b.size);
}
