// Global-norm gradient clipping: norm = sqrt(sum over all grads of sum(g^2)) (kernels' sumSquares, float64
// accumulation), and when norm > maxNorm every grad is scaled in place by maxNorm / (norm + 1e-6).
// A non-finite norm (inf/NaN grads) scales nothing and is reported, so the caller can skip the step.
import { type Tensor, getKernel } from '@lwz/kernels';

export interface ClipResult {
  /** the global norm before clipping */
  norm: number;
  /** factor the grads were multiplied by (1 when not clipped) */
  scale: number;
  clipped: boolean;
  finite: boolean;
}

export function globalGradNorm(grads: readonly Tensor[]): number {
  let sum = 0;
  for (const g of grads) sum += getKernel('sumSquares', g.device)({ x: g });
  return Math.sqrt(sum);
}

/** Clip in place to global norm `maxNorm` (Infinity or 0 = measure only). */
export function clipGradNorm(grads: readonly Tensor[], maxNorm: number): ClipResult {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0 (0 or Infinity disables), got ${maxNorm}`);
  const norm = globalGradNorm(grads);
  const finite = Number.isFinite(norm);
  if (!finite || maxNorm === 0 || maxNorm === Infinity || norm <= maxNorm) return { norm, scale: 1, clipped: false, finite };
  const scale = maxNorm / (norm + 1e-6);
  for (const g of grads) getKernel('scaleForward', g.device)({ a: g, out: g, alpha: scale, beta: 0 });
  return { norm, scale, clipped: true, finite };
}
