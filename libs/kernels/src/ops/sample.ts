// Sampling op: one token id per row of logits (N, V), temperature / top-k / top-p, driven by caller-given
// uniforms (N,) so a seeded Rng reproduces the same ids on every backend. Rule: kernel-signatures.ts.
import { getKernel } from '../registry';
import { tensor } from '../create';
import { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, outputOr } from './checks';

export interface SampleOptions {
  temperature?: number; // default 1; 0 = greedy
  topK?: number; // default 0 = all
  topP?: number; // default 1 = all
  /** (N,) i32 ids written here instead of a fresh tensor */
  out?: Tensor;
}

const F32_BELOW_ONE = 1 - 2 ** -24;

export function sample(logits: Tensor, uniforms: Tensor | ArrayLike<number>, opts: SampleOptions = {}): Tensor {
  expectRank('sample', 'logits', logits, 2);
  expectDtype('sample', 'logits', logits, 'f32');
  const [n] = logits.shape;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`sample: temperature must be >= 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`sample: topK must be an integer >= 0 (0 = all), got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`sample: topP must be in (0, 1], got ${topP}`);
  // a 53-bit uniform within 2^-25 of 1 rounds to 1.0 in f32, which would put the draw past every kept weight:
  // clamped to the largest f32 below 1 (the kernels also never return an id of weight 0)
  const u =
    uniforms instanceof Tensor
      ? uniforms
      : tensor(
          Float32Array.from(uniforms, (x) => Math.min(x, F32_BELOW_ONE)),
          [uniforms.length],
          { device: logits.device },
        );
  if (u.device !== logits.device) throw new Error(`sample: uniforms live on ${u.device}, logits on ${logits.device}`);
  expectDtype('sample', 'uniforms', u, 'f32');
  expectShape('sample', 'uniforms', u, [n]);
  const ids = outputOr('sample', 'out', opts.out, [n], logits.device, 'i32');
  getKernel('sampleForward', logits.device)({ logits, uniforms: u, temperature, topK, topP, ids });
  if (u !== uniforms) u.dispose();
  return ids;
}
