// The language-model head without full logits: log-probs of target tokens computed over chunks of rows,
// so at most (rows per chunk, V) logits exist at once; the backward recomputes each chunk's logits.
// Also the logits of chosen rows (the last position of each sequence, for sampling). Chunks are row views
// (storage + offset) of the (N, ...) buffers, so this runs unchanged on any backend.
import { embedding, empty, entropy, matmul, tidy, tokenLogprobs, tokenLogprobsBackward, type Tensor } from '@lwz/kernels';
import { packedOf, type Param } from './params';

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
  // every row of these is written by its chunk below: `empty`
  const logprobs = empty([N], { device });
  const lse = empty([N], { device });
  const ent = withEntropy ? empty([N], { device }) : null;
  const R = chunkRows(N, V, budget);
  const logits = empty([R, V], { device }); // (R, V) reused by every chunk
  for (let r0 = 0; r0 < N; r0 += R) {
    const n = Math.min(R, N - r0);
    tidy(() => {
      const lg = logits.rows(0, n);
      matmul(xf.rows(r0, n), head.value, { transB: true, out: lg });
      tokenLogprobs(lg, targets.rows(r0, n), { logprobs: logprobs.rows(r0, n), lse: lse.rows(r0, n) });
      if (ent) entropy(lg, { out: ent.rows(r0, n) });
    });
  }
  logits.dispose();
  return { logprobs, lse, entropy: ent };
}

/**
 * Backward of headLogprobsForward for the loss sum(dLogprobs * logprobs): returns dxf (N, C) and accumulates
 * dW into head.grad (when trainable).
 */
export function headLogprobsBackward(xf: Tensor, head: Param, targets: Tensor, lse: Tensor, dLogprobs: Tensor, budget: number): Tensor {
  const device = xf.device;
  const N = xf.shape[0];
  const V = head.shape[0];
  const dxf = empty(xf.shape, { device }); // every row written by its chunk's GEMM
  const R = chunkRows(N, V, budget);
  const logits = empty([R, V], { device }); // (R, V) reused by every chunk
  for (let r0 = 0; r0 < N; r0 += R) {
    const n = Math.min(R, N - r0);
    tidy(() => {
      const lg = logits.rows(0, n);
      const x = xf.rows(r0, n);
      matmul(x, head.value, { transB: true, out: lg });
      tokenLogprobsBackward(dLogprobs.rows(r0, n), lg, targets.rows(r0, n), lse.rows(r0, n), { inPlace: true });
      matmul(lg, head.value, { out: dxf.rows(r0, n) });
      if (head.trainable && head.grad) matmul(lg, x, { transA: true, out: head.grad, accumulate: true });
    });
  }
  logits.dispose();
  return dxf;
}

/** Logits (R, V) of the rows `rows` (R,) i32 of xf (N, C): a row gather then one GEMM. */
export function headLogitsAt(xf: Tensor, head: Param, rows: Tensor): Tensor {
  const picked = embedding(xf, rows); // (R, C)
  const logits = matmul(picked, head.value, { transB: true, packedB: packedOf(head) });
  picked.dispose();
  return logits;
}
