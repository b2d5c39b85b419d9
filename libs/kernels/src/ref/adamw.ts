// ref AdamW step on flat buffers, in place, float64 arithmetic per element (decoupled weight decay,
// Loshchilov & Hutter): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr (mhat / (sqrt(vhat) + eps) + wd p) with mhat = m / (1 - b1^step), vhat = v / (1 - b2^step).
// Not a schedule, not clipping: the optimizer lib owns those.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

export function adamwArrays(param: Buf, grad: Vec, m: Buf, v: Buf, n: number, hp: AdamwHyper): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = hp;
  if (!(step >= 1)) throw new Error(`adamwStep: step must be >= 1 (bias correction), got ${step}`);
  const c1 = 1 - Math.pow(beta1, step);
  const c2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const p = param[i];
    param[i] = p - lr * (mi / c1 / (Math.sqrt(vi / c2) + eps) + weightDecay * p);
  }
}

export function adamwStep(args: { param: Tensor; grad: Tensor; m: Tensor; v: Tensor } & AdamwHyper): void {
  const { param, grad, m, v } = args;
  adamwArrays(param.f32, grad.f32, m.f32, v.f32, param.size, args);
}
