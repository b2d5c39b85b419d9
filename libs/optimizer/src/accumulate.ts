// Gradient accumulation over micro-batches: sum each micro-batch's grads into accumulation buffers, then
// divide once. Normalisation, written down because it changes the loss scale:
//   'micro-batches': divide by the number of micro-batches (each micro-batch loss is a mean already);
//   'tokens':        divide by the total token count (micro-batch losses were token SUMS), so every token
//                    weighs the same however the batch was split.
// Not a loss function: the model produces the micro-batch grads.
import { type Tensor, axpy, fill, scale } from '@lwz/kernels';

export type AccumulationNorm = 'micro-batches' | 'tokens';

export class GradientAccumulator {
  private microBatches = 0;
  private tokens = 0;
  /** finish() divided the sums: a second call would divide them again */
  private finished = false;

  /** `buffers` (usually the parameters' grads) receive the sums; one per parameter, f32. */
  constructor(private readonly buffers: readonly Tensor[]) {
    this.zero();
  }

  /** Clear the buffers and counts before a new optimizer step. */
  zero(): void {
    // fill rather than multiply by 0: 0 * NaN left over from a bad step would stay NaN
    for (const b of this.buffers) fill(b, 0);
    this.microBatches = 0;
    this.tokens = 0;
    this.finished = false;
  }

  /** Add one micro-batch's grads (same order and sizes as the buffers); `tokens` = tokens in its loss. */
  add(grads: readonly Tensor[], tokens = 0): void {
    if (this.finished) throw new Error('GradientAccumulator.add after finish(): call zero() to start the next step');
    if (grads.length !== this.buffers.length)
      throw new Error(`GradientAccumulator.add: ${grads.length} grads for ${this.buffers.length} buffers`);
    if (!(Number.isInteger(tokens) && tokens >= 0))
      throw new Error(`GradientAccumulator.add: tokens must be an integer >= 0, got ${tokens}`);
    grads.forEach((g, i) => {
      const b = this.buffers[i];
      if (g.size !== b.size || g.device !== b.device)
        throw new Error(
          `GradientAccumulator.add: grad ${i} (${g.size} on ${g.device}) does not match its buffer (${b.size} on ${b.device})`,
        );
      axpy(b, 1, g);
    });
    this.microBatches += 1;
    this.tokens += tokens;
  }

  /** Divide the sums by the chosen count; returns the counts used. */
  finish(norm: AccumulationNorm): { microBatches: number; tokens: number } {
    const count = norm === 'micro-batches' ? this.microBatches : this.tokens;
    if (this.finished) throw new Error('GradientAccumulator.finish() called twice: the sums are already averaged');
    if (count === 0) throw new Error(`GradientAccumulator.finish('${norm}'): nothing accumulated (count is 0)`);
    for (const b of this.buffers) scale(b, 1 / count, { out: b });
    this.finished = true;
    return { microBatches: this.microBatches, tokens: this.tokens };
  }
}
