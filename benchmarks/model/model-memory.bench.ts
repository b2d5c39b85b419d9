// Model memory suite (issue #4): peak working memory of one forward + backward of the tiny preset at B=1,
// T=4096, with and without per-layer activation recomputation, each in a fresh child process
// (model-memory.child.ts says how it measures). `saved_bytes` is what the forward kept for backward:
// with recomputation only each layer's input (L x T x C floats) instead of every activation.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchSuite, MeasuredCase, SuiteContext } from '../suite';

const CHILD = fileURLToPath(new URL('./model-memory.child.ts', import.meta.url));
const T = 4096;

function memoryCase(mode: 'full' | 'recompute'): MeasuredCase {
  return {
    name: `train memory tiny T=${T} ${mode}`,
    params: { preset: 'tiny', B: 1, T, recompute: mode === 'recompute' },
    async measure(ctx: SuiteContext) {
      const tsx = import.meta.resolve('tsx');
      const stdout = execFileSync(process.execPath, ['--expose-gc', '--import', tsx, CHILD, String(T), mode, ctx.device], {
        encoding: 'utf8',
        env: { ...process.env, LWZ_THREADS: String(ctx.threads) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        peak_bytes: number;
        saved_bytes: number;
        step_ms: number;
        method: string;
      };
      return {
        median_ms: r.step_ms,
        throughput: r.peak_bytes / 2 ** 20,
        unit: 'peak MiB',
        extra: { peak_bytes: r.peak_bytes, saved_bytes: r.saved_bytes, saved_MiB: r.saved_bytes / 2 ** 20, method: r.method },
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'model-memory',
  description: `peak memory of forward+backward, tiny preset, B=1 T=${T}, with and without recomputation`,
  cases: () => [memoryCase('full'), memoryCase('recompute')],
};

export default suite;
