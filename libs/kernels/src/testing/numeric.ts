// Test helpers for the kernel suites: seeded random arrays and central finite differences in float64.
// Test-only (exported through @lwz/kernels/testing, never the main entry).
import { Rng } from '@lwz/core';

export function randomF64(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export function randomF32(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from(randomF64(rng, n, scale));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * d loss / d x_i by central differences: (loss(x + eps e_i) - loss(x - eps e_i)) / 2 eps, `loss` reading x.
 * Mutates x[i] temporarily and restores it. Truncation error O(eps^2), rounding O(1e-16 / eps) in float64 (a
 * float32 x rounds x[i] +- eps itself: use a larger eps there).
 */
export function centralDifference(x: Float64Array | Float32Array, i: number, loss: () => number, eps = 1e-5): number {
  const keep = x[i];
  x[i] = keep + eps;
  const up = loss();
  x[i] = keep - eps;
  const down = loss();
  x[i] = keep;
  return (up - down) / (2 * eps);
}

/** d loss / d x by central differences (centralDifference) for every i. */
export function numericGrad(x: Float64Array, loss: () => number, eps = 1e-5): Float64Array {
  return Float64Array.from(x, (_, i) => centralDifference(x, i, loss, eps));
}
