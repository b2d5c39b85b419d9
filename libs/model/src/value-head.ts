// The reward model's value head (Qwen2ForSequenceClassification's `score`): one scalar per sequence,
// scores[b] = score.weight (1, C) . xf[row b], where row b is the sequence's last valid token in the flat
// (N = B*T, C) final-norm hidden states. Forward and the hand-written backward (grads of sum(dScores * scores)
// into score.weight and back into xf as a row scatter), through @lwz/kernels ops only. No bias: a
// Bradley-Terry loss is blind to one, and transformers' classifier has none. Not a pooling zoo (no mean pool).
import { embedding, embeddingBackward, matmul, zeros, type Tensor } from '@lwz/kernels';
import { reshapeOwned } from './layer';
import type { Param } from './params';

/** Flat row index of each sequence's last valid token: b*T + lengths[b] - 1 (row b*T for an empty row). */
export function lastRows(lengths: readonly number[], T: number): Int32Array {
  return Int32Array.from(lengths, (len, b) => b * T + Math.max(0, len - 1));
}

/**
 * scores (B,) from xf (N, C) at `rows` (B,) i32; also the gathered hidden states `picked` (B, C) that the
 * backward needs (the caller owns both).
 */
export function valueHeadForward(xf: Tensor, head: Param, rows: Tensor): { scores: Tensor; picked: Tensor } {
  const picked = embedding(xf, rows); // (B, C): a row gather
  const scores = matmul(picked, head.value, { transB: true }); // (B, 1)
  return { scores: reshapeOwned(scores, [rows.size]), picked };
}

/**
 * Backward of valueHeadForward for the loss sum_b dScores[b] * scores[b]: accumulates dW (1, C) += dScores^T
 * picked into head.grad (when trainable) and returns dxf (N, C), zero except at `rows`.
 */
export function valueHeadBackward(dScores: Tensor, head: Param, rows: Tensor, picked: Tensor, n: number): Tensor {
  const B = rows.size;
  const C = picked.shape[1];
  const dS = dScores.reshape([B, 1]); // (B, 1) view
  if (head.trainable && head.grad) matmul(dS, picked, { transA: true, out: head.grad, accumulate: true }); // (1, C)
  const dPicked = matmul(dS, head.value); // (B, 1) @ (1, C) -> (B, C)
  const dxf = zeros([n, C], { device: picked.device });
  embeddingBackward(dPicked, rows, dxf); // scatter-add into the picked rows (distinct rows: a plain scatter)
  dS.dispose();
  dPicked.dispose();
  return dxf;
}
