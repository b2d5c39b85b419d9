// ref sum of squares in float64 (for global-norm gradient clipping). Returns a plain number.
import type { Tensor } from '../tensor';
import type { Vec } from './arrays';

export function sumSquaresArrays(x: Vec, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += x[i] * x[i];
  return acc;
}

export function sumSquares({ x }: { x: Tensor }): number {
  return sumSquaresArrays(x.f32, x.size);
}
