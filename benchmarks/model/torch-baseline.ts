// The PyTorch side of the comparison benchmarks (grpo-update, model-vs-torch): which python runs the torch
// scripts (Debian's python3-torch lives in the system python, which a pyenv/venv `python3` on PATH may hide;
// LWZ_TORCH_PYTHON overrides), whether it can import torch, the environment its scripts run in, running a
// script for its last JSON line, and the median-of-iterations timer both sides use.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = process.env.LWZ_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export const TORCH_MISSING = `${PYTHON} cannot import torch (sudo apt-get install python3-torch, or set LWZ_TORCH_PYTHON)`;

let probed: string | null | undefined;

/** torch.__version__, or null when the python cannot import torch; asked once (importing torch takes seconds). */
export function torchVersion(): string | null {
  if (probed !== undefined) return probed;
  try {
    probed = execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    probed = null;
  }
  return probed;
}

/**
 * OpenMP's wait policy for the torch scripts: PASSIVE unless the caller's environment sets OMP_WAIT_POLICY.
 * Debian's torch runs its ops on an OpenMP pool and its matmuls on OpenBLAS's own pthread pool; with both
 * pools spinning between calls they fight over the same cores: on a 2-core Zen 3 the bench-5m B8 T256 step
 * took 1.16-1.35 s with PASSIVE against 1.86-1.95 s without on a quiet machine (3 alternating pairs), 2.2-4.8 s
 * against 6.1-8.7 s under load (4 pairs). The baseline should be torch at its best, not at its worst.
 */
export const TORCH_OMP_WAIT_POLICY = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';

/** Run `script --k v ...` and parse the JSON object on its last stdout line. */
export function runTorchScript<R>(script: string, flags: Record<string, number>): R {
  const args = [script, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const out = execFileSync(PYTHON, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OMP_WAIT_POLICY: TORCH_OMP_WAIT_POLICY },
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as R;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median wall time of `iters` calls after `warmup` untimed ones (torch_step.py's median_ms does the same). */
export function timeMs(fn: () => unknown, iters: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}
