// ref RoPE, Hugging Face rotate-half convention, angles in float64: for i < D/2 and
// angle = pos * theta^(-2i/D): y[i] = x[i] cos - x[i+D/2] sin, y[i+D/2] = x[i+D/2] cos + x[i] sin.
// `inverse` rotates by -angle (the transpose: the backward pass). In place is allowed (out === x).
// x, out (B, T, H, D); positions (B, T), any offset. Not the interleaved (GPT-J) pairing.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export interface RopeDims {
  b: number;
  t: number;
  h: number;
  d: number;
}

export function ropeArrays(x: Vec, positions: Vec, out: Buf, dims: RopeDims, theta: number, inverse: boolean): void {
  const { b, t, h, d } = dims;
  const half = d >> 1;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = Math.pow(theta, (-2 * i) / d);
  const sign = inverse ? -1 : 1;
  for (let bt = 0; bt < b * t; bt++) {
    const pos = positions[bt];
    for (let i = 0; i < half; i++) {
      const angle = pos * invFreq[i];
      const cos = Math.cos(angle);
      const sin = sign * Math.sin(angle);
      for (let hh = 0; hh < h; hh++) {
        const o = (bt * h + hh) * d;
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        out[o + i] = x1 * cos - x2 * sin;
        out[o + i + half] = x2 * cos + x1 * sin;
      }
    }
  }
}

export function ropeForward(args: { x: Tensor; positions: Tensor; theta: number; out: Tensor; inverse: boolean }): void {
  const [b, t, h, d] = args.x.shape;
  ropeArrays(args.x.f32, args.positions.i32, args.out.f32, { b, t, h, d }, args.theta, args.inverse);
}
