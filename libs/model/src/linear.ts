// Linear projections as Hugging Face defines them, y (N, out) = x (N, in) W^T (+ b), W (out, in), with an
// optional LoRA adapter y += scale * (x A^T) B^T, A (r, in), B (out, r). Forward and hand-written backward,
// through @lwz/kernels only. Gradients accumulate into `param.grad` and skip frozen parameters. Not a module
// system: the caller keeps whatever the backward pass needs (x and the adapter's x A^T).
import { add, matmul, sumRows, zeros, type Tensor } from '@lwz/kernels';
import { packedOf, type Param } from './params';

export interface LoraAdapter {
  a: Param; // (r, in)
  b: Param; // (out, r)
  scale: number; // alpha / r
}

/** y = x W^T (+ b) (+ LoRA); writes `out` when given (accumulating when `accumulate`). Returns y and x A^T. */
export function linearForward(
  x: Tensor,
  w: Param,
  bias: Param | null,
  lora: LoraAdapter | null,
  out?: Tensor,
  accumulate = false,
): { y: Tensor; xa: Tensor | null } {
  const y = matmul(x, w.value, { transB: true, out, accumulate, packedB: packedOf(w) });
  if (bias) add(y, bias.value, { out: y });
  let xa: Tensor | null = null;
  if (lora) {
    xa = matmul(x, lora.a.value, { transB: true }); // (N, r)
    matmul(xa, lora.b.value, { transB: true, alpha: lora.scale, out: y, accumulate: true });
  }
  return { y, xa };
}

/**
 * Backward of linearForward given dy (N, out): dx (N, in) written (or added to, when `accumulateDx`) and
 * dW, db, dA, dB accumulated into the parameters' grads when they are trainable.
 */
export function linearBackward(
  dy: Tensor,
  x: Tensor,
  w: Param,
  bias: Param | null,
  lora: LoraAdapter | null,
  xa: Tensor | null,
  dx: Tensor,
  accumulateDx: boolean,
): void {
  matmul(dy, w.value, { out: dx, accumulate: accumulateDx });
  if (w.trainable && w.grad) matmul(dy, x, { transA: true, out: w.grad, accumulate: true });
  if (bias && bias.trainable && bias.grad) sumRows(dy, { out: bias.grad, accumulate: true });
  if (lora && xa) {
    if (lora.b.grad) matmul(dy, xa, { transA: true, alpha: lora.scale, out: lora.b.grad, accumulate: true });
    const dxa = matmul(dy, lora.b.value, { alpha: lora.scale }); // (N, r)
    if (lora.a.grad) matmul(dxa, x, { transA: true, out: lora.a.grad, accumulate: true });
    matmul(dxa, lora.a.value, { out: dx, accumulate: true });
    dxa.dispose();
  }
}

/** A zero-filled scratch tensor like `t` (for gradients of frozen weights that kernels still write). */
export function scratchLike(t: Tensor): Tensor {
  return zeros(t.shape, { device: t.device });
}
