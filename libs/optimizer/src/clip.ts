// Global-norm gradient clipping, the one implementation in the workspace: norm = sqrt(sum over all grads of
// sum(g^2)) (kernels' globalNorm, float64 accumulation), and when norm > maxNorm every grad is scaled in
// place by maxNorm / (norm + 1e-6) (PyTorch's clip_grad_norm_ rule). maxNorm 0 (or Infinity) = off: the
// norm is measured and reported, nothing is scaled (what a config's `gradClip: 0` means). A non-finite norm
// (inf/NaN grads) scales nothing and is reported, so the caller can skip the step.
import { type Tensor, globalNorm, scale } from '@lwz/kernels';

export interface ClipResult {
  /** the global norm before clipping */
  norm: number;
  /** factor the grads were multiplied by (1 when not clipped) */
  scale: number;
  clipped: boolean;
  finite: boolean;
}

/** Clip in place to global norm `maxNorm` (0 or Infinity = off: measure only). */
export function clipGradNorm(grads: readonly Tensor[], maxNorm: number): ClipResult {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0 (0 or Infinity disables), got ${maxNorm}`);
  const norm = globalNorm(grads);
  const finite = Number.isFinite(norm);
  if (!finite || maxNorm === 0 || maxNorm === Infinity || norm <= maxNorm) return { norm, scale: 1, clipped: false, finite };
  const coef = maxNorm / (norm + 1e-6);
  for (const g of grads) scale(g, coef, { out: g });
  return { norm, scale: coef, clipped: true, finite };
}
