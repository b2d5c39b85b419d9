// cpu kernels over rows of logits and flat optimizer buffers: softmax / log-softmax, chosen-token log-probs
// and their backward, entropy, sampling, AdamW and the sum of squares for clipping.
import type { KernelSignatures } from '../kernel-signatures';
import type { NativeAddon } from './native';

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
      addon.softmaxForward(x.f32, out.f32, v === 0 ? 0 : x.size / v, v, log);
    },
    tokenLogprobsForward: ({ logits, targets, logprobs, lse }) => {
      const [n, v] = logits.shape;
      addon.tokenLogprobsForward(logits.f32, targets.i32, logprobs.f32, lse.f32, n, v);
    },
    tokenLogprobsBackward: ({ dLogprobs, logits, targets, lse, dLogits }) => {
      const [n, v] = logits.shape;
      addon.tokenLogprobsBackward(dLogprobs.f32, logits.f32, targets.i32, lse.f32, dLogits.f32, n, v);
    },
    entropyForward: ({ logits, entropy }) => addon.entropyForward(logits.f32, entropy.f32, entropy.size, lastDim(logits.shape)),
    sampleForward: ({ logits, uniforms, temperature, topK, topP, ids }) =>
      addon.sampleForward(logits.f32, uniforms.f32, ids.i32, ids.size, lastDim(logits.shape), temperature, topK, topP),
    adamwStep: ({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step }) =>
      addon.adamwStep(param.f32, grad.f32, m.f32, v.f32, param.size, lr, beta1, beta2, eps, weightDecay, step),
    sumSquares: ({ x }) => addon.sumSquares(x.f32, x.size),
  };
}
