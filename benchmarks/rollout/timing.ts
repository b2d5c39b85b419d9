// Decode and prefill timings for the rollout suite, ours and llama.cpp's, measured the same way: decode rate
// = (new tokens - 1) * rows / (time of an N-token run - time of a 1-token run), so prompt prefill and the
// first token are excluded on both sides; prefill rate = prompt tokens / time to evaluate the prompt. The
// two engines run alternately (ours, theirs, ours, ...) and report medians, so machine load hits both.
// llama.cpp is node-llama-cpp's prebuilt CPU build (no GPU, f32 KV cache, flash attention off).
import type { LocalRollout } from '@lwz/rollout';
import { benchPrompt } from './models';

export interface Rate {
  /** tokens per second (wall clock) */
  rate: number;
  /** process CPU milliseconds per token (both engines run in this process) */
  cpuMs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `a` and `b` timed alternately for `rounds` rounds, the order flipped every round (ABBA), so load from other
 * processes hits both alike: each side's values (ms) and the per-round ratios b / a.
 */
export function alternate(rounds: number, a: () => number, b: () => number): { a: number[]; b: number[]; ratios: number[] } {
  const out = { a: [] as number[], b: [] as number[], ratios: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    let ma: number, mb: number;
    if (r % 2) {
      mb = b();
      ma = a();
    } else {
      ma = a();
      mb = b();
    }
    out.a.push(ma);
    out.b.push(mb);
    out.ratios.push(mb / ma);
  }
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const cu = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (cu.user + cu.system) / 1000, value };
}

/** Our decode rate at `rows` answers decoded together (one prompt per row, greedy, no early stop). */
export async function oursDecode(rollout: LocalRollout, rows: number, tokens: number, promptLen: number): Promise<Rate> {
  const vocab = rollout.model.config.vocabSize;
  const prompts = Array.from({ length: rows }, (_, b) => ({ ids: benchPrompt(promptLen, vocab, b) }));
  const run = (n: number) => timed(() => rollout.generate(prompts, { maxNewTokens: n, temperature: 0, ignoreEos: true }));
  const one = await run(1);
  const full = await run(tokens);
  const count = (tokens - 1) * rows;
  return { rate: count / ((full.ms - one.ms) / 1000), cpuMs: (full.cpu - one.cpu) / count };
}

/** Our prefill rate: one prompt of `promptLen` tokens, one new token. */
export async function oursPrefill(rollout: LocalRollout, promptLen: number): Promise<Rate> {
  const ids = benchPrompt(promptLen, rollout.model.config.vocabSize, 99);
  const t = await timed(() => rollout.generate([{ ids }], { maxNewTokens: 1, temperature: 0, ignoreEos: true }));
  return { rate: promptLen / (t.ms / 1000), cpuMs: t.cpu / promptLen };
}

type LlamaModule = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<LlamaModule['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type Token = Parameters<ReturnType<Awaited<ReturnType<LlamaModel['createContext']>>['getSequence']>['evaluate']>[0][number];

export interface LlamaBench {
  decode(rows: number, tokens: number, promptLen: number): Promise<Rate>;
  prefill(promptLen: number): Promise<Rate>;
  dispose(): Promise<void>;
}

let llamaLib: Promise<Llama> | null = null;

/** llama.cpp on a GGUF with `threads` threads, or why node-llama-cpp cannot start. */
export async function startLlama(gguf: string, threads: number, vocab: number): Promise<LlamaBench | { skip: string }> {
  let llama: Llama;
  try {
    const mod: LlamaModule = await import('node-llama-cpp');
    llamaLib ??= mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
    llama = await llamaLib;
  } catch (e) {
    return { skip: `node-llama-cpp cannot start its prebuilt CPU binary: ${(e as Error).message}` };
  }
  const model = await llama.loadModel({ modelPath: gguf });
  const context = (sequences: number, size: number) =>
    model.createContext({
      contextSize: size,
      sequences,
      threads,
      batchSize: 512,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
  const run = async (rows: number, tokens: number, promptLen: number) => {
    const ctx = await context(rows, rows * (promptLen + tokens + 16));
    const seqs = Array.from({ length: rows }, () => ctx.getSequence());
    const t = await timed(() =>
      Promise.all(
        seqs.map(async (seq, b) => {
          let n = 0;
          for await (const token of seq.evaluate(benchPrompt(promptLen, vocab, b) as Token[], { temperature: 0 })) {
            void token;
            if (++n === tokens) break;
          }
        }),
      ),
    );
    await ctx.dispose();
    return t;
  };
  return {
    async decode(rows, tokens, promptLen) {
      const one = await run(rows, 1, promptLen);
      const full = await run(rows, tokens, promptLen);
      const count = (tokens - 1) * rows;
      return { rate: count / ((full.ms - one.ms) / 1000), cpuMs: (full.cpu - one.cpu) / count };
    },
    async prefill(promptLen) {
      const ctx = await context(1, promptLen + 16);
      const seq = ctx.getSequence();
      const tokens = benchPrompt(promptLen, vocab, 99) as Token[];
      const t = await timed(() => seq.evaluateWithoutGeneratingNewTokens(tokens));
      await ctx.dispose();
      return { rate: promptLen / (t.ms / 1000), cpuMs: t.cpu / promptLen };
    },
    dispose: () => model.dispose(),
  };
}
