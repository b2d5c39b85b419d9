// PyTorch comparison (issue #4): the same decoder shape, batch and step (forward + mean-NLL backward +
// AdamW; and a no-grad forward) timed here and in `python3 torch_step.py` (Debian's python3-torch, CPU,
// the same thread count; /usr/bin/python3 unless LWZ_TORCH_PYTHON says otherwise), in one run. time_ratio = ours_ms / torch_ms: the target is <= 1.2 for the
// train step of bench-5m. Skipped, with the install line, when python3 cannot import torch.
import { fileURLToPath } from 'node:url';
import { modelPreset, type ModelConfig } from '@lwz/model';
import type { BenchSuite, Measured, MeasuredCase, Skip, SuiteContext } from '../suite';
import { runTorchScript, timeMs, TORCH_MISSING, torchVersion } from './torch-baseline';
import { stepHarness } from './train-step';

const B = 8;
const T = 256;
const SCRIPT = fileURLToPath(new URL('./torch_step.py', import.meta.url));

function torchFlags(c: ModelConfig, ctx: SuiteContext, iters: number, warmup: number): Record<string, number> {
  return {
    layers: c.numLayers,
    hidden: c.hiddenSize,
    heads: c.numHeads,
    kv_heads: c.numKvHeads,
    ffn: c.intermediateSize,
    vocab: c.vocabSize,
    B,
    T,
    threads: ctx.threads,
    iters,
    warmup,
    rope_theta: c.ropeTheta,
  };
}

function compareCase(preset: string): MeasuredCase {
  const config = modelPreset(preset);
  return {
    name: `train step vs torch ${preset} B=${B} T=${T}`,
    params: { preset, B, T },
    async measure(ctx: SuiteContext): Promise<Measured | Skip> {
      const version = torchVersion();
      if (!version) return { skip: TORCH_MISSING };
      if (config.headDim * config.numHeads !== config.hiddenSize) return { skip: 'torch_step.py assumes head_dim = hidden / heads' };
      const iters = ctx.smoke ? 1 : 5;
      const warmup = ctx.smoke ? 0 : 1;
      const h = stepHarness(config, B, T, ctx.device);
      const oursTrain = timeMs(() => h.train(), iters, warmup);
      const oursForward = timeMs(() => h.forward(), iters, warmup);
      h.dispose();
      const torch = runTorchScript<{ train_ms: number; forward_ms: number; threads: number }>(
        SCRIPT,
        torchFlags(config, ctx, iters, warmup),
      );
      return {
        median_ms: oursTrain,
        throughput: (B * T) / (oursTrain / 1000),
        unit: 'tokens/s',
        extra: {
          torch: version,
          torch_threads: torch.threads,
          torch_train_ms: torch.train_ms,
          train_time_ratio: oursTrain / torch.train_ms,
          ours_forward_ms: oursForward,
          torch_forward_ms: torch.forward_ms,
          forward_time_ratio: oursForward / torch.forward_ms,
        },
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'model-vs-torch',
  description: 'train step and forward time vs PyTorch CPU (python3-torch), same shape and threads, time_ratio = ours / torch',
  cases: () => ['bench-5m', 'tiny'].map(compareCase),
};

export default suite;
