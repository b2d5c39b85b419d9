// Round trip through llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU binary): export tiny checkpoints to
// GGUF, load them in llama.cpp, and compare its next-token distribution at every prompt position and along a
// 32-token greedy continuation with @lwz/model's forward. node-llama-cpp returns probabilities (softmax of
// the raw logits under a greedy sampler), so we compare log-softmax: logits up to each row's constant.
// Tolerance 1e-3 (f32 export, f32 KV cache); greedy tokens must be identical.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@lwz/kernels';
import { loadModel, saveModel, type ModelConfig, type Qwen2Model } from '@lwz/model';
import { exportCheckpoint } from './export-checkpoint';
import { readGguf } from './gguf-reader';
import {
  argmax,
  byteLevelTokenizerJson,
  lastRowLogits,
  logSoftmaxRows,
  maxAbsDiff,
  must,
  oursLogits,
  randomWeights,
  tinyConfig,
  writeTestCheckpoint,
} from './testing/fixtures';

const PROMPT = [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 260]; // "hello world" bytes + a merged token
const NEW_TOKENS = 32;

type LlamaModule = typeof import('node-llama-cpp');
let llamaMod: LlamaModule;
let llama: Awaited<ReturnType<LlamaModule['getLlama']>>;
let dir: string;

beforeAll(async () => {
  llamaMod = await import('node-llama-cpp');
  llama = await llamaMod.getLlama({ gpu: false, build: 'never', logLevel: llamaMod.LlamaLogLevel.error });
  dir = mkdtempSync(join(tmpdir(), 'lwz-gguf-'));
});
afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** llama.cpp's log-softmax rows for the prompt positions and its greedy continuation. */
async function llamaRun(path: string, V: number): Promise<{ logprobs: Float64Array; tokens: number[] }> {
  const model = await llama.loadModel({ modelPath: path });
  const ctx = await model.createContext({
    contextSize: 128,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  const seq = ctx.getSequence();
  const rows: Float64Array[] = [];
  const tokens: number[] = [];
  const toRow = (p: Map<number, number>): Float64Array => Float64Array.from({ length: V }, (_, v) => Math.log(p.get(v) ?? 0));
  const gen = { generateNext: { token: true, probabilities: true, options: { temperature: 0 } } };
  type Token = Parameters<typeof seq.evaluate>[0][number]; // node-llama-cpp brands token ids
  const item = (t: number): [Token, typeof gen] => [t as Token, gen];
  const out = await seq.controlledEvaluate(PROMPT.map(item));
  for (const o of out) rows.push(toRow(must(o?.next.probabilities, 'probabilities')));
  let next = must(out[out.length - 1]?.next.token, 'token');
  for (let i = 0; i < NEW_TOKENS; i++) {
    tokens.push(next);
    const [o] = await seq.controlledEvaluate([item(next)]);
    rows.push(toRow(must(o?.next.probabilities, 'probabilities')));
    next = must(o?.next.token, 'token');
  }
  await ctx.dispose();
  await model.dispose();
  const logprobs = new Float64Array(rows.length * V);
  rows.forEach((r, i) => logprobs.set(r, i * V));
  return { logprobs, tokens };
}

/**
 * Ours: log-softmax rows for the prompt positions (one batched pass over its prefixes) and then one row per
 * continuation step (a B=1 pass each); greedy unless `forced` gives the continuation tokens.
 */
function oursRun(model: Qwen2Model, forced?: readonly number[]): { logprobs: Float64Array; tokens: number[] } {
  const V = model.config.vocabSize;
  const rows: Float32Array[] = [oursLogits(model, PROMPT)];
  const ids = [...PROMPT];
  const tokens: number[] = [];
  let last = rows[0].subarray((PROMPT.length - 1) * V);
  for (let i = 0; i < NEW_TOKENS; i++) {
    const next = forced ? forced[i] : argmax(last, 0, V);
    tokens.push(next);
    ids.push(next);
    last = lastRowLogits(model, ids);
    rows.push(last);
  }
  const all = new Float32Array((PROMPT.length + NEW_TOKENS) * V);
  let off = 0;
  for (const r of rows) all.set(r, (off += r.length) - r.length);
  return { logprobs: logSoftmaxRows(all, V), tokens };
}

function checkpoint(name: string, c: ModelConfig, seed: number): string {
  const ck = join(dir, name);
  writeTestCheckpoint(ck, c, randomWeights(c, seed), byteLevelTokenizerJson());
  return ck;
}

/** A few steps of gradient ascent on a repeated phrase, saved through @lwz/model's saveModel. */
function trainedCheckpoint(name: string): string {
  const src = checkpoint(`${name}-init`, tinyConfig({ tieWordEmbeddings: true }), 11);
  const model = loadModel(src);
  const T = 16;
  const text = Int32Array.from({ length: T + 1 }, (_, i) => PROMPT[i % PROMPT.length]);
  model.store.ensureGrads();
  for (let step = 0; step < 3; step++) {
    model.zeroGrad();
    const ids = tensor(text.slice(0, T), [1, T], { device: model.device, dtype: 'i32' });
    const targets = tensor(text.slice(1), [1, T], { device: model.device, dtype: 'i32' });
    model.forwardLogprobs({ ids, targets }, { grad: true }).logprobs.dispose();
    model.backward(tensor(new Float32Array(T).fill(1), [1, T], { device: model.device }));
    for (const p of model.trainableParams()) {
      const v = p.value.f32;
      const g = must(p.grad, `grad of ${p.name}`).f32;
      for (let i = 0; i < v.length; i++) v[i] += 0.05 * g[i];
    }
  }
  const ck = join(dir, name);
  saveModel(model, ck, { tokenizer: src });
  return ck;
}

describe('GGUF export through llama.cpp', () => {
  const cases: [string, () => string][] = [
    ['random qwen2 (q/k/v biases, untied head, GQA 4:2)', () => checkpoint('qwen2', tinyConfig(), 1)],
    [
      'random llama-style (no biases, tied head, q/k permuted)',
      () => checkpoint('llama', tinyConfig({ modelType: 'llama', attentionBias: false, tieWordEmbeddings: true }), 2),
    ],
    ['trained qwen2 (tied head, 3 gradient steps, saved by saveModel)', () => trainedCheckpoint('trained')],
    // llama.cpp's qwen2 loader assumes heads x head_dim = hidden: such a model goes as arch llama, biases and all
    [
      'random qwen2 with head_dim 6 (4 heads x 6 != hidden 16: written as arch llama)',
      () => checkpoint('qwen2-hd6', tinyConfig({ headDim: 6 }), 3),
    ],
  ];

  it.each(cases)(
    '%s: logits within 1e-3 and identical greedy tokens',
    async (name, make) => {
      const ck = make();
      const out = join(ck, 'model.gguf');
      exportCheckpoint({ checkpoint: ck, format: 'gguf', out });
      const model = loadModel(ck);
      const ours = oursRun(model);
      const theirs = await llamaRun(out, model.config.vocabSize);
      const diff = maxAbsDiff(theirs.logprobs, ours.logprobs);
      console.warn(
        `[gguf ${name}] max |logprob diff| ${diff.toExponential(2)}; greedy ours ${ours.tokens.join(',')}; llama ${theirs.tokens.join(',')}`,
      );
      expect(diff).toBeLessThan(1e-3);
      expect(theirs.tokens).toEqual(ours.tokens);
    },
    180_000,
  );

  it('f16 export halves the matrices and stays close (1e-2 on log-probs)', async () => {
    const ck = checkpoint('qwen2-f16', tinyConfig(), 3);
    const out = join(ck, 'model-f16.gguf');
    exportCheckpoint({ checkpoint: ck, format: 'gguf', dtype: 'f16', out });
    const f = readGguf(out);
    expect(f.tensors.get('blk.0.attn_q.weight')?.type).toBe(1);
    expect(f.tensors.get('blk.0.attn_q.bias')?.type).toBe(0);
    const model = loadModel(ck);
    const theirs = await llamaRun(out, model.config.vocabSize);
    const ours = oursRun(model, theirs.tokens);
    expect(maxAbsDiff(theirs.logprobs, ours.logprobs)).toBeLessThan(1e-2);
  }, 180_000);
});
