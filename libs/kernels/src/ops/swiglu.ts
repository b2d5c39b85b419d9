// SwiGLU ops: out = silu(gate) * up elementwise (gate, up (N, F) or any equal shapes) and its backward.
import { getKernel } from '../registry';
import { zeros } from '../create';
import type { Tensor } from '../tensor';
import { expectDtype, expectShape, sameDevice } from './checks';

export function swiglu(gate: Tensor, up: Tensor): Tensor {
  const device = sameDevice('swiglu', gate, up);
  expectDtype('swiglu', 'gate', gate, 'f32');
  expectDtype('swiglu', 'up', up, 'f32');
  expectShape('swiglu', 'up', up, gate.shape);
  const out = zeros(gate.shape, { device });
  getKernel('swigluForward', device)({ gate, up, out });
  return out;
}

export function swigluBackward(dOut: Tensor, gate: Tensor, up: Tensor): { dGate: Tensor; dUp: Tensor } {
  const device = sameDevice('swigluBackward', dOut, gate, up);
  for (const [name, t] of [
    ['dOut', dOut],
    ['gate', gate],
    ['up', up],
  ] as const) {
    expectDtype('swigluBackward', name, t, 'f32');
    expectShape('swigluBackward', name, t, gate.shape);
  }
  const dGate = zeros(gate.shape, { device });
  const dUp = zeros(gate.shape, { device });
  getKernel('swigluBackward', device)({ dOut, gate, up, dGate, dUp });
  return { dGate, dUp };
}
