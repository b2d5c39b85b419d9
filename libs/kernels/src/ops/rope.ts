// RoPE op (Hugging Face rotate-half): x (B, T, H, D), positions (B, T) i32 with any offset (a KV cache
// continues at its length). `inverse` is the backward; `inPlace` rotates x itself.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, outputOr, sameDevice } from './checks';

export interface RopeOptions {
  inverse?: boolean;
  /** rotate x itself (same as out: x) */
  inPlace?: boolean;
  /** write here instead of allocating (x's size) */
  out?: Tensor;
}

export function rope(x: Tensor, positions: Tensor, theta: number, opts: RopeOptions = {}): Tensor {
  const device = sameDevice('rope', x, positions);
  expectRank('rope', 'x', x, 4);
  expectDtype('rope', 'x', x, 'f32');
  expectDtype('rope', 'positions', positions, 'i32');
  const [b, t, , d] = x.shape;
  expectShape('rope', 'positions', positions, [b, t]);
  if (d % 2 !== 0) throw new Error(`rope: head dim D = ${d} must be even`);
  if (!(theta > 0)) throw new Error(`rope: theta must be > 0, got ${theta}`);
  const out = opts.inPlace ? x : outputOr('rope', 'out', opts.out, x.shape, device);
  getKernel('ropeForward', device)({ x, positions, theta, out, inverse: opts.inverse ?? false });
  return out;
}
