// ref SwiGLU forward and backward in float64: out = silu(gate) * up, silu(x) = x * sigmoid(x).
// gate, up, out (N, F). Not the gate/up projections themselves (those are matmuls).
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function swigluForwardArrays(gate: Vec, up: Vec, out: Buf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/** dUp = dOut silu(g); dGate = dOut up sig(g) (1 + g (1 - sig(g))). Both overwritten. */
export function swigluBackwardArrays(dOut: Vec, gate: Vec, up: Vec, dGate: Buf, dUp: Buf, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const sg = sigmoid(g);
    const d = dOut[i];
    const u = up[i];
    dGate[i] = d * u * sg * (1 + g * (1 - sg));
    dUp[i] = d * g * sg;
  }
}

export function swigluForward({ gate, up, out }: { gate: Tensor; up: Tensor; out: Tensor }): void {
  swigluForwardArrays(gate.f32, up.f32, out.f32, gate.size);
}

export function swigluBackward(args: { dOut: Tensor; gate: Tensor; up: Tensor; dGate: Tensor; dUp: Tensor }): void {
  swigluBackwardArrays(args.dOut.f32, args.gate.f32, args.up.f32, args.dGate.f32, args.dUp.f32, args.gate.size);
}
