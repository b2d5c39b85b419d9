// SwiGLU ops: out = silu(gate) * up elementwise (gate, up (N, F) or any equal shapes) and its backward.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectShape, outputOr, sameDevice } from './checks';

/** silu(gate) * up (into opts.out when given). */
export function swiglu(gate: Tensor, up: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const device = sameDevice('swiglu', gate, up);
  expectDtype('swiglu', 'gate', gate, 'f32');
  expectDtype('swiglu', 'up', up, 'f32');
  expectShape('swiglu', 'up', up, gate.shape);
  const out = outputOr('swiglu', 'out', opts.out, gate.shape, device, 'f32', true);
  getKernel('swigluForward', device)({ gate, up, out });
  return out;
}

/** dGate, dUp (overwritten; into opts.dGate / opts.dUp when given). */
export function swigluBackward(
  dOut: Tensor,
  gate: Tensor,
  up: Tensor,
  opts: { dGate?: Tensor; dUp?: Tensor } = {},
): { dGate: Tensor; dUp: Tensor } {
  const device = sameDevice('swigluBackward', dOut, gate, up);
  for (const [name, t] of [
    ['dOut', dOut],
    ['gate', gate],
    ['up', up],
  ] as const) {
    expectDtype('swigluBackward', name, t, 'f32');
    expectShape('swigluBackward', name, t, gate.shape);
  }
  const dGate = outputOr('swigluBackward', 'dGate', opts.dGate, gate.shape, device, 'f32', true);
  const dUp = outputOr('swigluBackward', 'dUp', opts.dUp, gate.shape, device, 'f32', true);
  getKernel('swigluBackward', device)({ dOut, gate, up, dGate, dUp });
  return { dGate, dUp };
}
