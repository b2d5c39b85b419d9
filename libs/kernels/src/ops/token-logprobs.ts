// Chosen-token log-prob ops (the building block of cross-entropy and policy-gradient losses), and entropy.
// logits (N, V) are one chunk of rows: callers chunk long sequences so full (T, V) logits are never kept.
// targets (N,) i32; a target < 0 masks the row (logprob 0, no gradient).
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, outputOr, sameDevice } from './checks';

function checkLogits(op: string, logits: Tensor, targets: Tensor): number {
  expectRank(op, 'logits', logits, 2);
  expectDtype(op, 'logits', logits, 'f32');
  expectDtype(op, 'targets', targets, 'i32');
  expectShape(op, 'targets', targets, [logits.shape[0]]);
  return logits.shape[0];
}

/**
 * logprobs[n] = log softmax(logits[n])[targets[n]] (0 where masked); lse (N,) saved for the backward.
 * `opts.logprobs` / `opts.lse` receive the results instead of fresh tensors (e.g. row views of (B*T,) buffers).
 */
export function tokenLogprobs(
  logits: Tensor,
  targets: Tensor,
  opts: { logprobs?: Tensor; lse?: Tensor } = {},
): { logprobs: Tensor; lse: Tensor } {
  const device = sameDevice('tokenLogprobs', logits, targets);
  const n = checkLogits('tokenLogprobs', logits, targets);
  const logprobs = outputOr('tokenLogprobs', 'logprobs', opts.logprobs, [n], device, 'f32', true);
  const lse = outputOr('tokenLogprobs', 'lse', opts.lse, [n], device, 'f32', true);
  getKernel('tokenLogprobsForward', device)({ logits, targets, logprobs, lse });
  return { logprobs, lse };
}

/**
 * dLogits (N, V) = dLogprobs[n] (onehot(target) - softmax(logits[n])). The loss weight (mask, advantage,
 * 1/token count) comes in through dLogprobs. `inPlace` writes over logits to save a (N, V) buffer; `out`
 * receives dLogits otherwise.
 */
export function tokenLogprobsBackward(
  dLogprobs: Tensor,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  opts: { inPlace?: boolean; out?: Tensor } = {},
): Tensor {
  const device = sameDevice('tokenLogprobsBackward', dLogprobs, logits, targets, lse);
  const n = checkLogits('tokenLogprobsBackward', logits, targets);
  expectDtype('tokenLogprobsBackward', 'dLogprobs', dLogprobs, 'f32');
  expectShape('tokenLogprobsBackward', 'dLogprobs', dLogprobs, [n]);
  expectShape('tokenLogprobsBackward', 'lse', lse, [n]);
  const dLogits = opts.inPlace ? logits : outputOr('tokenLogprobsBackward', 'out', opts.out, logits.shape, device, 'f32', true);
  getKernel('tokenLogprobsBackward', device)({ dLogprobs, logits, targets, lse, dLogits });
  return dLogits;
}

/** entropy[n] = -sum_v p log p of softmax(logits[n]); logits (N, V) -> (N,) (into opts.out when given). */
export function entropy(logits: Tensor, opts: { out?: Tensor } = {}): Tensor {
  expectRank('entropy', 'logits', logits, 2);
  expectDtype('entropy', 'logits', logits, 'f32');
  const out = outputOr('entropy', 'out', opts.out, [logits.shape[0]], logits.device, 'f32', true);
  getKernel('entropyForward', logits.device)({ logits, entropy: out });
  return out;
}
