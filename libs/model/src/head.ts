// The language-model head without full logits: log-probs of target tokens computed over chunks of rows,
// so at most (rows per chunk, V) logits exist at once; the backward recomputes each chunk's logits.
// Also the logits of chosen rows (the last position of each sequence, for sampling). Row views are host
// tensors sharing memory (ref/cpu); a device backend needs a row-slice kernel first (#4).
import { getKernel, matmul, tensor, zeros, type Tensor } from '@lwz/kernels';
import type { Param } from './params';

/** Default cap on logits kept at once (f32 values): 16 M = 64 MB (110 rows of Qwen2's 151,936-token vocabulary). */
export const DEFAULT_LOGIT_BUDGET = 1 << 24;

/** A view of rows [start, start + count) of a row-major tensor (first dim = rows), sharing memory. */
export function rowsView(t: Tensor, start: number, count: number): Tensor {
  if (t.device === 'cuda') throw new Error('rowsView: row views of cuda tensors are not implemented yet (#4)');
  const row = t.size / t.shape[0];
  const data = t.dtype === 'f32' ? t.f32.subarray(start * row, (start + count) * row) : t.i32.subarray(start * row, (start + count) * row);
  return tensor(data, [count, ...t.shape.slice(1)], { device: t.device, dtype: t.dtype });
}

export function chunkRows(n: number, vocab: number, budget: number): number {
  return Math.max(1, Math.min(n, Math.floor(budget / vocab)));
}

/**
 * logprobs (N,) and lse (N,) of `targets` (N,) i32 (negative = ignored) under logits = xf (N, C) W^T, and the
 * entropy (N,) of each row's distribution when `withEntropy` (a metric: no gradient flows through it).
 */
export function headLogprobsForward(
  xf: Tensor,
  head: Param,
  targets: Tensor,
  budget: number,
  withEntropy = false,
): { logprobs: Tensor; lse: Tensor; entropy: Tensor | null } {
  const device = xf.device;
  const N = xf.shape[0];
  const V = head.shape[0];
  const logprobs = zeros([N], { device });
  const lse = zeros([N], { device });
  const entropy = withEntropy ? zeros([N], { device }) : null;
  const R = chunkRows(N, V, budget);
  const logits = zeros([R, V], { device });
  for (let r0 = 0; r0 < N; r0 += R) {
    const n = Math.min(R, N - r0);
    const lg = n === R ? logits : rowsView(logits, 0, n);
    matmul(rowsView(xf, r0, n), head.value, { transB: true, out: lg });
    getKernel(
      'tokenLogprobsForward',
      device,
    )({
      logits: lg,
      targets: rowsView(targets, r0, n),
      logprobs: rowsView(logprobs, r0, n),
      lse: rowsView(lse, r0, n),
    });
    if (entropy) getKernel('entropyForward', device)({ logits: lg, entropy: rowsView(entropy, r0, n) });
  }
  logits.dispose();
  return { logprobs, lse, entropy };
}

/**
 * Backward of headLogprobsForward for the loss sum(dLogprobs * logprobs): returns dxf (N, C) and accumulates
 * dW into head.grad (when trainable).
 */
export function headLogprobsBackward(xf: Tensor, head: Param, targets: Tensor, lse: Tensor, dLogprobs: Tensor, budget: number): Tensor {
  const device = xf.device;
  const N = xf.shape[0];
  const V = head.shape[0];
  const dxf = zeros(xf.shape, { device });
  const R = chunkRows(N, V, budget);
  const logits = zeros([R, V], { device });
  for (let r0 = 0; r0 < N; r0 += R) {
    const n = Math.min(R, N - r0);
    const lg = n === R ? logits : rowsView(logits, 0, n);
    const x = rowsView(xf, r0, n);
    matmul(x, head.value, { transB: true, out: lg });
    getKernel(
      'tokenLogprobsBackward',
      device,
    )({
      dLogprobs: rowsView(dLogprobs, r0, n),
      logits: lg,
      targets: rowsView(targets, r0, n),
      lse: rowsView(lse, r0, n),
      dLogits: lg,
    });
    matmul(lg, head.value, { out: rowsView(dxf, r0, n) });
    if (head.trainable && head.grad) matmul(lg, x, { transA: true, out: head.grad, accumulate: true });
  }
  logits.dispose();
  return dxf;
}

/** Logits (R, V) of the rows `rows` (R,) i32 of xf (N, C): a gather (embedding kernel) then one GEMM. */
export function headLogitsAt(xf: Tensor, head: Param, rows: Tensor): Tensor {
  const picked = zeros([rows.size, xf.shape[1]], { device: xf.device });
  getKernel('embeddingForward', xf.device)({ table: xf, ids: rows, out: picked });
  const logits = matmul(picked, head.value, { transB: true });
  picked.dispose();
  return logits;
}
