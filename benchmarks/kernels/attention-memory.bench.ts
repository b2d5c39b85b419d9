// Attention memory suite (issue #2): peak working memory of one causal attention forward at T = 1024 ..
// 8192, each T in a fresh child process (attention-memory.child.ts says how it measures). A flash-style
// kernel needs O(T) memory, so working bytes per token stay flat (or fall) as T grows; a kernel that kept a
// (T, S) score matrix would need score_matrix_bytes, growing with T^2. Not a speed benchmark.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasKernel } from '@lwz/kernels';
import type { BenchSuite, MeasuredCase, SuiteContext } from '../suite';

/** Fewer heads than the speed suite: the T = 8192 forward must also finish on the `ref` backend. */
const HEADS = { H: 4, Hkv: 1, D: 64 } as const;
const CHILD = fileURLToPath(new URL('./attention-memory.child.ts', import.meta.url));

function memoryCase(t: number): MeasuredCase {
  const { H, Hkv, D } = HEADS;
  return {
    name: `attention fwd memory T=${t}`,
    params: { B: 1, T: t, H, Hkv, D, causal: true },
    async measure(ctx: SuiteContext) {
      if (!hasKernel('attentionForward', ctx.device)) return { skip: `no attentionForward kernel registered for device ${ctx.device} yet` };
      const tsx = import.meta.resolve('tsx');
      const args = ['--expose-gc', '--import', tsx, CHILD, String(t), String(H), String(Hkv), String(D), ctx.device];
      const env = { ...process.env, LWZ_THREADS: String(ctx.threads) };
      const stdout = execFileSync(process.execPath, args, {
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        working_bytes: number;
        tensor_bytes: number;
        forward_ms: number;
        method: string;
      };
      return {
        median_ms: r.forward_ms,
        throughput: r.working_bytes / t,
        unit: 'working B/token',
        extra: {
          working_bytes: r.working_bytes,
          tensor_bytes: r.tensor_bytes,
          tensor_B_per_token: r.tensor_bytes / t,
          score_matrix_bytes: 4 * H * t * t,
          method: r.method,
        },
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'attention-memory',
  description: 'peak working memory of causal attention forward vs T (fresh child process per T)',
  cases: () => [1024, 2048, 4096, 8192].map(memoryCase),
};

export default suite;
