// Rollout suite (issue #10): our decode tokens/s at batch 1, 8 and 32 (answers decoded together through the
// continuous-batching engine, greedy, no early stop) and prefill tokens/s, beside llama.cpp on the same
// weights exported to an f32 GGUF with the same thread count, for `tiny`, `bench-5m` and a ~107 M random
// Qwen2. ratio = ours / llama.cpp (above 1: ours faster); cpu_ratio compares process CPU time per token,
// which a busy shared machine disturbs less than wall time. The batch-32 rows also give our own batch-32 /
// batch-1 aggregate. Method and caveats: timing.ts and README.md.
import { isHostDevice } from '@lwz/kernels';
import { LocalRollout } from '@lwz/rollout';
import type { BenchSuite, Measured, MeasuredCase, Skip, SuiteContext } from '../suite';
import { benchCheckpoint } from './models';
import { median, oursDecode, oursPrefill, startLlama, type LlamaBench, type Rate } from './timing';

const PROMPT = 32;
const ROLLOUTS = new Map<string, LocalRollout>();
const OURS_B1 = new Map<string, number>();

function rollout(name: string): LocalRollout {
  let r = ROLLOUTS.get(name);
  if (!r) {
    r = LocalRollout.fromCheckpoint(benchCheckpoint(name).dir, { maxBatch: 32 });
    ROLLOUTS.set(name, r);
  }
  return r;
}

function tokensFor(name: string, smoke: boolean): number {
  if (smoke) return 4;
  return name === 'qwen2-100m' ? 33 : 129;
}

/** Ours and llama.cpp alternately, `reps` times each; medians. */
async function sideBySide(
  reps: number,
  ours: () => Promise<Rate>,
  theirs: (() => Promise<Rate>) | null,
): Promise<{ ours: Rate; theirs: Rate | null }> {
  const a: Rate[] = [];
  const b: Rate[] = [];
  for (let i = 0; i < reps; i++) {
    a.push(await ours());
    if (theirs) b.push(await theirs());
  }
  const med = (xs: Rate[]): Rate => ({ rate: median(xs.map((x) => x.rate)), cpuMs: median(xs.map((x) => x.cpuMs)) });
  return { ours: med(a), theirs: theirs ? med(b) : null };
}

function toMeasured(r: { ours: Rate; theirs: Rate | null }, extra: Record<string, number | string> = {}): Measured {
  const out: Measured = {
    median_ms: 1000 / r.ours.rate,
    throughput: r.ours.rate,
    unit: 'tokens/s',
    extra: { ours_cpu_ms_per_token: r.ours.cpuMs, ...extra },
  };
  if (r.theirs) {
    Object.assign(out.extra as object, {
      llama_tokens_per_s: r.theirs.rate,
      llama_cpu_ms_per_token: r.theirs.cpuMs,
      ratio: r.ours.rate / r.theirs.rate,
      cpu_ratio: r.theirs.cpuMs / r.ours.cpuMs,
    });
  }
  return out;
}

async function withLlama<T>(name: string, ctx: SuiteContext, fn: (llama: LlamaBench | null, why?: string) => Promise<T>): Promise<T> {
  const ck = benchCheckpoint(name);
  const llama = await startLlama(ck.gguf, ctx.threads, ck.config.vocabSize);
  if ('skip' in llama) return fn(null, llama.skip);
  try {
    return await fn(llama);
  } finally {
    await llama.dispose();
  }
}

function decodeCase(name: string, rows: number): MeasuredCase {
  return {
    name: `decode B=${rows} ${name}`,
    params: { model: name, B: rows, prompt: PROMPT },
    async measure(ctx): Promise<Measured | Skip> {
      if (!isHostDevice(ctx.device)) return { skip: 'the llama.cpp comparison is CPU only' };
      const tokens = tokensFor(name, ctx.smoke);
      const reps = ctx.smoke ? 1 : 3;
      return withLlama(name, ctx, async (llama, why) => {
        const r = await sideBySide(
          reps,
          () => oursDecode(rollout(name), rows, tokens, PROMPT),
          llama ? () => llama.decode(rows, tokens, PROMPT) : null,
        );
        if (rows === 1) OURS_B1.set(name, r.ours.rate);
        const extra: Record<string, number | string> = { new_tokens: tokens - 1 };
        if (why) extra.llama = `skipped: ${why}`;
        const b1 = OURS_B1.get(name);
        if (rows > 1 && b1) extra.vs_ours_b1 = r.ours.rate / b1;
        return toMeasured(r, extra);
      });
    },
  };
}

function prefillCase(name: string): MeasuredCase {
  return {
    name: `prefill ${name}`,
    params: { model: name, prompt: 512 },
    async measure(ctx): Promise<Measured | Skip> {
      if (!isHostDevice(ctx.device)) return { skip: 'the llama.cpp comparison is CPU only' };
      const len = ctx.smoke ? 64 : 512;
      return withLlama(name, ctx, async (llama) => {
        const r = await sideBySide(ctx.smoke ? 1 : 3, () => oursPrefill(rollout(name), len), llama ? () => llama.prefill(len) : null);
        return toMeasured(r, { prompt_tokens: len });
      });
    },
  };
}

const suite: BenchSuite = {
  suite: 'rollout',
  description:
    'decode tokens/s at batch 1/8/32 and prefill tokens/s, ours vs llama.cpp (same f32 weights, same threads); ratio = ours / llama.cpp',
  // smoke (CI: does the suite still run?) decodes tiny only: the larger models are the same code, and the ~100M one
  // costs an init and a 400 MB GGUF export on every run
  cases: (ctx) =>
    (ctx.smoke ? ['tiny'] : ['tiny', 'bench-5m', 'qwen2-100m']).flatMap((name) => [
      decodeCase(name, 1),
      decodeCase(name, 8),
      decodeCase(name, 32),
      prefillCase(name),
    ]),
};

export default suite;
