// Optimizer kernels as ops: one AdamW step on a flat parameter buffer (in place) and the global norm over
// many tensors (float64 sum). No hyper-parameter defaults here: libs/optimizer's DEFAULT_ADAMW is the one
// source; clipping, schedules and parameter groups live in libs/optimizer too.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectFinite, expectSize, sameDevice } from './checks';

export interface AdamwOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled: p -= lr wd p */
  weightDecay: number;
  /** 1-based step count (bias correction) */
  step: number;
}

/** One AdamW step: param, m and v updated in place. Every hyper-parameter is given (and checked). */
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
  for (const key of ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'] as const) expectFinite('adamwStep', key, opts[key]);
  if (!Number.isInteger(opts.step) || opts.step < 1) throw new Error(`adamwStep: step must be an integer >= 1, got ${opts.step}`);
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  getKernel('adamwStep', device)({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step });
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
