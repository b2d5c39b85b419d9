// ref chosen-token log-probs and their backward, float64 per row. logits (N, V), targets (N,) i32,
// logprobs (N,), lse (N,). A target < 0 marks an ignored row: logprob 0, zero gradient (lse still written).
// Not a loss: the caller weights (mask, advantage) and reduces; cross-entropy is -logprobs.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';
import { rowLogSumExp } from './row-lse';

function checkTarget(op: string, target: number, r: number, v: number): void {
  if (target >= v) throw new Error(`${op}: target ${target} in row ${r} is outside the vocabulary [0, ${v})`);
}

export function tokenLogprobsArrays(logits: Vec, targets: Vec, logprobs: Buf, lse: Buf, n: number, v: number): void {
  for (let r = 0; r < n; r++) {
    const t = targets[r];
    checkTarget('tokenLogprobs', t, r, v);
    const l = rowLogSumExp(logits, r * v, v);
    lse[r] = l;
    logprobs[r] = t < 0 ? 0 : logits[r * v + t] - l;
  }
}

/** dLogits[n, v] = dLogprobs[n] (onehot(t)[v] - exp(logits[n, v] - lse[n])); dLogits may alias logits. */
export function tokenLogprobsBackwardArrays(dLogprobs: Vec, logits: Vec, targets: Vec, lse: Vec, dLogits: Buf, n: number, v: number): void {
  for (let r = 0; r < n; r++) {
    const t = targets[r];
    checkTarget('tokenLogprobsBackward', t, r, v);
    const o = r * v;
    const d = t < 0 ? 0 : dLogprobs[r];
    const l = lse[r];
    for (let j = 0; j < v; j++) dLogits[o + j] = d === 0 ? 0 : d * ((j === t ? 1 : 0) - Math.exp(logits[o + j] - l));
  }
}

export function tokenLogprobsForward(args: { logits: Tensor; targets: Tensor; logprobs: Tensor; lse: Tensor }): void {
  const [n, v] = args.logits.shape;
  tokenLogprobsArrays(args.logits.f32, args.targets.i32, args.logprobs.f32, args.lse.f32, n, v);
}

export function tokenLogprobsBackward(args: { dLogprobs: Tensor; logits: Tensor; targets: Tensor; lse: Tensor; dLogits: Tensor }): void {
  const [n, v] = args.logits.shape;
  tokenLogprobsBackwardArrays(args.dLogprobs.f32, args.logits.f32, args.targets.i32, args.lse.f32, args.dLogits.f32, n, v);
}
