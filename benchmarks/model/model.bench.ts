// Model suite (issue #4): tokens/s of one training step (forward with saved activations + backward of the
// mean NLL + AdamW over every parameter) and of a forward-only pass, for the 5.3 M-parameter benchmark
// shape (bench-5m: 4 layers, hidden 256, 4 heads, ffn 1024, vocab 4096) and the `tiny` preset, batch
// 8 x 256 tokens. Not a correctness check (libs/model's tests own that); model-vs-torch.bench.ts has the
// PyTorch comparison.
import { hasKernel } from '@lwz/kernels';
import { modelPreset, parameterCount } from '@lwz/model';
import type { BenchSuite, SuiteContext, TimedCase } from '../suite';
import { stepHarness } from './train-step';

const B = 8;
const T = 256;

function stepCase(preset: string, kind: 'train step' | 'forward'): TimedCase {
  const config = modelPreset(preset);
  const P = parameterCount(config);
  return {
    name: `${kind} ${preset} B=${B} T=${T}`,
    params: { preset, B, T, layers: config.numLayers, hidden: config.hiddenSize, vocab: config.vocabSize, params: P },
    work: { amount: B * T, unit: 'token', formula: 'B*T tokens per call' },
    setup(ctx: SuiteContext) {
      if (!hasKernel('matmulForward', ctx.device)) return { skip: `no matmulForward kernel for device ${ctx.device}` };
      const h = stepHarness(config, B, T, ctx.device);
      return { fn: kind === 'train step' ? () => h.train() : () => h.forward(), dispose: () => h.dispose() };
    },
  };
}

const suite: BenchSuite = {
  suite: 'model',
  description: 'Qwen2 decoder tokens/s: train step (fwd+bwd+AdamW) and forward, bench-5m and tiny, B=8 T=256',
  cases: () => ['bench-5m', 'tiny'].flatMap((p) => [stepCase(p, 'train step'), stepCase(p, 'forward')]),
};

export default suite;
