// ref matmul: the textbook triple loop in float64. Slow and obviously correct; the truth for cpu and cuda.
import type { MatmulArgs } from '../kernel-signatures';
import { gemmDims } from '../ops/matmul-shapes';

export function matmulForward({ a, b, out, transA, transB, alpha, accumulate }: MatmulArgs): void {
  const { batch, m, n, k, bBatched } = gemmDims(a, b, transA, transB);
  const A = a.f32;
  const Bm = b.f32;
  const O = out.f32;
  for (let bt = 0; bt < batch; bt++) {
    const aOff = bt * m * k;
    const bOff = bBatched ? bt * k * n : 0;
    const oOff = bt * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? A[aOff + p * m + i] : A[aOff + i * k + p];
          const bv = transB ? Bm[bOff + j * k + p] : Bm[bOff + p * n + j];
          acc += av * bv;
        }
        const o = oOff + i * n + j;
        O[o] = alpha * acc + (accumulate ? O[o] : 0);
      }
    }
  }
}
