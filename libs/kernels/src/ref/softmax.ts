// ref row-wise softmax / log-softmax of x (N, V) into out (N, V), float64, max-shifted. out may alias x.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';
import { rowLogSumExp } from './row-lse';

export function softmaxArrays(x: Vec, out: Buf, n: number, v: number, log: boolean): void {
  for (let r = 0; r < n; r++) {
    const o = r * v;
    const lse = rowLogSumExp(x, o, v);
    for (let j = 0; j < v; j++) out[o + j] = log ? x[o + j] - lse : Math.exp(x[o + j] - lse);
  }
}

export function softmaxForward({ x, out, log }: { x: Tensor; out: Tensor; log: boolean }): void {
  const v = x.shape[x.rank - 1];
  softmaxArrays(x.f32, out.f32, v === 0 ? 0 : x.size / v, v, log);
}
