// cpu kernels over rows of logits and flat optimizer buffers: softmax / log-softmax, chosen-token log-probs
// and their backward, entropy, sampling, AdamW and the sum of squares for clipping.
import type { KernelSignatures } from '../kernel-signatures';
import type { NativeAddon } from './native';
import { f32, i32 } from './views';

type Rows = Pick<
  KernelSignatures,
  'softmaxForward' | 'tokenLogprobsForward' | 'tokenLogprobsBackward' | 'entropyForward' | 'sampleForward' | 'adamwStep' | 'sumSquares'
>;

function lastDim(shape: readonly number[]): number {
  return shape[shape.length - 1];
}

export function rowKernels(addon: NativeAddon): Rows {
  return {
    softmaxForward: ({ x, out, log }) => {
      const v = lastDim(x.shape);
      addon.softmaxForward(f32(x), f32(out), v === 0 ? 0 : x.size / v, v, log);
    },
    tokenLogprobsForward: ({ logits, targets, logprobs, lse }) => {
      const [n, v] = logits.shape;
      addon.tokenLogprobsForward(f32(logits), i32(targets), f32(logprobs), f32(lse), n, v);
    },
    tokenLogprobsBackward: ({ dLogprobs, logits, targets, lse, dLogits }) => {
      const [n, v] = logits.shape;
      addon.tokenLogprobsBackward(f32(dLogprobs), f32(logits), i32(targets), f32(lse), f32(dLogits), n, v);
    },
    entropyForward: ({ logits, entropy }) => addon.entropyForward(f32(logits), f32(entropy), entropy.size, lastDim(logits.shape)),
    sampleForward: ({ logits, uniforms, temperature, topK, topP, ids }) =>
      addon.sampleForward(f32(logits), f32(uniforms), i32(ids), ids.size, lastDim(logits.shape), temperature, topK, topP),
    adamwStep: ({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step }) =>
      addon.adamwStep(f32(param), f32(grad), f32(m), f32(v), param.size, lr, beta1, beta2, eps, weightDecay, step),
    sumSquares: ({ x }) => addon.sumSquares(f32(x), x.size),
  };
}
