// Optimizer kernels as ops: one AdamW step on a flat parameter buffer (in place), the global gradient norm
// over many tensors (float64 sum), and clipping by it. Schedules and parameter groups live in libs/optimizer.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectFinite, expectSize, sameDevice } from './checks';

export interface AdamwOptions {
  lr: number;
  beta1?: number; // default 0.9
  beta2?: number; // default 0.999
  eps?: number; // default 1e-8
  weightDecay?: number; // default 0.01 (decoupled: p -= lr wd p)
  /** 1-based step count (bias correction) */
  step: number;
}

/** One AdamW step: param, m and v updated in place. */
export function adamwStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamwOptions): void {
  const device = sameDevice('adamwStep', param, grad, m, v);
  for (const [name, t] of [
    ['param', param],
    ['grad', grad],
    ['m', m],
    ['v', v],
  ] as const) {
    expectDtype('adamwStep', name, t, 'f32');
    expectSize('adamwStep', name, t, param.size, `${param.size} (the size of param)`);
  }
  expectFinite('adamwStep', 'lr', opts.lr);
  if (!Number.isInteger(opts.step) || opts.step < 1) throw new Error(`adamwStep: step must be an integer >= 1, got ${opts.step}`);
  getKernel(
    'adamwStep',
    device,
  )({
    param,
    grad,
    m,
    v,
    lr: opts.lr,
    beta1: opts.beta1 ?? 0.9,
    beta2: opts.beta2 ?? 0.999,
    eps: opts.eps ?? 1e-8,
    weightDecay: opts.weightDecay ?? 0.01,
    step: opts.step,
  });
}

/** sqrt(sum of squares over every tensor), accumulated in float64. */
export function globalNorm(tensors: readonly Tensor[]): number {
  let ss = 0;
  for (const x of tensors) {
    expectDtype('globalNorm', 'tensor', x, 'f32');
    ss += getKernel('sumSquares', x.device)({ x });
  }
  return Math.sqrt(ss);
}

/**
 * Scale every tensor in place by maxNorm / (norm + 1e-6) when the global norm exceeds maxNorm (PyTorch's
 * clip_grad_norm_ rule). Returns the norm before clipping; a non-finite norm leaves the tensors untouched
 * so the caller can skip the step.
 */
export function clipGradNorm(tensors: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(tensors);
  if (!Number.isFinite(norm) || norm <= maxNorm) return norm;
  const coef = maxNorm / (norm + 1e-6);
  for (const x of tensors) getKernel('scaleForward', x.device)({ a: x, out: x, alpha: coef, beta: 0 });
  return norm;
}
