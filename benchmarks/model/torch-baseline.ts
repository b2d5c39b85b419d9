// The PyTorch side of a comparison benchmark (grpo-update; model-vs-torch keeps its own copy of these until
// its rework for issue #15 lands): which python runs the torch scripts (Debian's python3-torch lives in the
// system python, which a pyenv/venv `python3` on PATH may hide; LWZ_TORCH_PYTHON overrides), whether it can
// import torch, running a script for its last JSON line, and the median-of-iterations timer both sides use.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = process.env.LWZ_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export const TORCH_MISSING = `${PYTHON} cannot import torch (sudo apt-get install python3-torch, or set LWZ_TORCH_PYTHON)`;

/** torch.__version__, or null when the python cannot import torch. */
export function torchVersion(): string | null {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** Run `script --k v ...` and parse the JSON object on its last stdout line. */
export function runTorchScript<R>(script: string, flags: Record<string, number>): R {
  const args = [script, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const out = execFileSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
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
