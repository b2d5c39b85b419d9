// RoPE op (Hugging Face rotate-half): x (B, T, H, D), positions (B, T) i32 with any offset (a KV cache
// continues at its length). `inverse` is the backward; `inPlace` rotates x itself.
import { getKernel } from '../registry';
import { zeros } from '../create';
import type { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, sameDevice } from './checks';

export interface RopeOptions {
  inverse?: boolean;
  inPlace?: boolean;
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
  const out = opts.inPlace ? x : zeros(x.shape, { device });
  getKernel('ropeForward', device)({ x, positions, theta, out, inverse: opts.inverse ?? false });
  return out;
}
