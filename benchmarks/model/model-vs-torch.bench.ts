// PyTorch comparison (issues #4, #15): the same decoder shape, batch and step (forward + mean-NLL backward +
// AdamW; and a no-grad forward) timed here and in `python3 torch_step.py` (Debian's python3-torch, CPU,
// the same thread count; /usr/bin/python3 unless LWZ_TORCH_PYTHON says otherwise), in one run, at B8 T256
// and B2 T1024. time_ratio = ours_ms / torch_ms (issue #15's target: <= 0.8). Each case also profiles one
// step on both sides and prints the per-op breakdown (breakdown.ts; not in smoke mode). When python3 cannot
// import torch, our side still runs and the record says torch is unavailable, with the install line.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { profileKernels } from '@lwz/kernels';
import { modelPreset, type ModelConfig } from '@lwz/model';
import type { BenchSuite, Measured, MeasuredCase, Skip, SuiteContext } from '../suite';
import { breakdownTable, type TorchOp } from './breakdown';
import { stepHarness } from './train-step';

const SHAPES: readonly [B: number, T: number][] = [
  [8, 256],
  [2, 1024],
];
const SCRIPT = fileURLToPath(new URL('./torch_step.py', import.meta.url));
/** Debian's python3-torch lives in the system python, which a pyenv/venv `python3` on PATH may hide. */
const torchPython = (): string => process.env.LWZ_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

let probed: { python: string; version: string | null } | null = null;

/** torch's version in torchPython(), or null; asked once per interpreter (importing torch takes seconds). */
function torchVersion(): string | null {
  const python = torchPython();
  if (probed?.python === python) return probed.version;
  let version: string | null = null;
  try {
    version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    version = null;
  }
  probed = { python, version };
  return version;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeMs(fn: () => unknown, iters: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function torchArgs(c: ModelConfig, ctx: SuiteContext, B: number, T: number, iters: number, warmup: number): string[] {
  const flags: Record<string, number> = {
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
  return [SCRIPT, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
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
        const torch = `unavailable: ${torchPython()} cannot import torch (sudo apt-get install python3-torch, or set LWZ_TORCH_PYTHON)`;
        return {
          median_ms: oursTrain,
          throughput: (B * T) / (oursTrain / 1000),
          unit: 'tokens/s',
          extra: { torch, ours_forward_ms: oursForward },
        };
      }
      const out = execFileSync(torchPython(), torchArgs(config, ctx, B, T, iters, warmup), {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const torch = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
        train_ms: number;
        forward_ms: number;
        threads: number;
        profile?: { wall_ms: number; ops: TorchOp[] };
      };
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
        details: oursProfile ? breakdownTable(oursProfile, torch.profile) : undefined,
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'model-vs-torch',
  description: 'train step and forward time vs PyTorch CPU (python3-torch), same shape and threads, time_ratio = ours / torch',
  cases: () => SHAPES.flatMap(([B, T]) => ['bench-5m', 'tiny'].map((preset) => compareCase(preset, B, T))),
};

export default suite;
