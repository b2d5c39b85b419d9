// ref entropy of softmax rows: H = -sum_v p log p = lse - sum_v p x, float64. logits (N, V), entropy (N,).
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';
import { rowLogSumExp } from './row-lse';

export function entropyArrays(logits: Vec, entropy: Buf, n: number, v: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * v;
    const lse = rowLogSumExp(logits, o, v);
    let h = 0;
    for (let j = 0; j < v; j++) {
      const lp = logits[o + j] - lse;
      // masked entries (p = 0) add nothing; a NaN logit makes the row's entropy NaN, as every backend must
      if (lp > -Infinity || Number.isNaN(logits[o + j])) h -= Math.exp(lp) * lp;
    }
    entropy[r] = h;
  }
}

export function entropyForward({ logits, entropy }: { logits: Tensor; entropy: Tensor }): void {
  const v = logits.shape[logits.rank - 1];
  entropyArrays(logits.f32, entropy.f32, entropy.size, v);
}
