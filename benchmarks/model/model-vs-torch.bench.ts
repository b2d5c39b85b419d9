// PyTorch comparison (issues #4, #15): the same decoder shape, batch and step (forward + mean-NLL backward +
// AdamW; and a no-grad forward) timed here and in `python3 torch_step.py` (Debian's python3-torch, CPU,
// the same thread count, OpenMP waiting passively (torch-baseline.ts says why); /usr/bin/python3 unless
// LWZ_TORCH_PYTHON says otherwise), in one run, at B8 T256 and B2 T1024. time_ratio = ours_ms / torch_ms
// (issue #15's target: <= 0.8). Each case also profiles one step on both sides and prints the per-op
// breakdown (breakdown.ts; not in smoke mode). When python3 cannot import torch, our side still runs and the
// record says torch is unavailable, with the install line.
import { fileURLToPath } from 'node:url';
import { profileKernels } from '@lwz/kernels';
import { modelPreset, type ModelConfig } from '@lwz/model';
import type { BenchSuite, Measured, MeasuredCase, Skip, SuiteContext } from '../suite';
import { breakdownTable, type TorchOp } from './breakdown';
import { runTorchScript, TORCH_MISSING, TORCH_OMP_WAIT_POLICY, timeMs, torchVersion } from './torch-baseline';
import { stepHarness } from './train-step';

const SHAPES: readonly [B: number, T: number][] = [
  [8, 256],
  [2, 1024],
];
const SCRIPT = fileURLToPath(new URL('./torch_step.py', import.meta.url));

function torchFlags(c: ModelConfig, ctx: SuiteContext, B: number, T: number, iters: number, warmup: number): Record<string, number> {
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
    profile: ctx.smoke ? 0 : 1,
  };
}

function compareCase(preset: string, B: number, T: number): MeasuredCase {
  const config = modelPreset(preset);
  return {
    name: `train step vs torch ${preset} B=${B} T=${T}`,
    params: { preset, B, T },
    async measure(ctx: SuiteContext): Promise<Measured | Skip> {
      if (config.headDim * config.numHeads !== config.hiddenSize) return { skip: 'torch_step.py assumes head_dim = hidden / heads' };
      const iters = ctx.smoke ? 1 : 5;
      const warmup = ctx.smoke ? 0 : 1;
      const h = stepHarness(config, B, T, ctx.device);
      const oursTrain = timeMs(() => h.train(), iters, warmup);
      const oursForward = timeMs(() => h.forward(), iters, warmup);
      const oursProfile = ctx.smoke ? null : profileKernels(() => h.train());
      h.dispose();
      const version = torchVersion();
      if (!version) {
        return {
          median_ms: oursTrain,
          throughput: (B * T) / (oursTrain / 1000),
          unit: 'tokens/s',
          extra: { torch: `unavailable: ${TORCH_MISSING}`, ours_forward_ms: oursForward },
        };
      }
      const torch = runTorchScript<{
        train_ms: number;
        forward_ms: number;
        threads: number;
        profile?: { wall_ms: number; ops: TorchOp[] };
      }>(SCRIPT, torchFlags(config, ctx, B, T, iters, warmup));
      return {
        median_ms: oursTrain,
        throughput: (B * T) / (oursTrain / 1000),
        unit: 'tokens/s',
        extra: {
          torch: version,
          torch_threads: torch.threads,
          torch_omp_wait_policy: TORCH_OMP_WAIT_POLICY,
          torch_train_ms: torch.train_ms,
          train_time_ratio: oursTrain / torch.train_ms,
          ours_forward_ms: oursForward,
          torch_forward_ms: torch.forward_ms,
          forward_time_ratio: oursForward / torch.forward_ms,
        },
        details: oursProfile ? breakdownTable(oursProfile, torch.profile) : undefined,
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'model-vs-torch',
  description: 'train step and forward time vs PyTorch CPU (python3-torch), same shape and threads, time_ratio = ours / torch',
  // smoke (CI: does the suite still run?): tiny at the first shape only, the others are the same code at other sizes
  cases: (ctx) =>
    ctx.smoke
      ? [compareCase('tiny', ...SHAPES[0])]
      : SHAPES.flatMap(([B, T]) => ['bench-5m', 'tiny'].map((preset) => compareCase(preset, B, T))),
};

export default suite;
