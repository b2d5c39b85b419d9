// Test fixtures for the exporters: a tiny random Qwen2/Llama checkpoint in memory and a small hand-written
// byte-level BPE tokenizer.json (all 256 byte tokens, a few merges, one special token), written to disk as a
// checkpoint directory; "ours" logits from @lwz/model's forward. Used by the round-trip tests only.
import { join } from 'node:path';
import { Rng, writeFileAtomic } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { parameterSpecs, toHfConfig, writeWeights, type ModelConfig, type Qwen2Model } from '@lwz/model';
import { tinyConfig as baseTinyConfig } from '@lwz/model/testing';
import { ggufChunks, type GgufTensor, type GgufValue } from '../gguf-writer';

/**
 * The whole GGUF file ggufChunks streams (what the exporter writes to disk chunk by chunk), in a buffer of its own
 * (byteOffset 0, so DataViews over `.buffer` read the file's offsets).
 */
export function ggufBytes(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array {
  const chunks = [...ggufChunks(metadata, tensors)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
}

/** `v`, or a thrown error naming `what` when it is missing (tests use this instead of `!`). */
export function must<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new Error(`test: missing ${what}`);
  return v;
}

/** The model tests' tiny config, widened so llama.cpp and onnxruntime see realistic head sizes. */
export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return baseTinyConfig({
    vocabSize: 320,
    hiddenSize: 64,
    intermediateSize: 96,
    headDim: 16,
    tieWordEmbeddings: false,
    maxPositionEmbeddings: 256,
    eosTokenId: 264, // <|endoftext|> in byteLevelTokenizerJson
    ...over,
  });
}

/** Random weights: matrices N(0, std), norms 1 + N(0, 0.1), biases N(0, 0.1) (so every tensor matters). */
export function randomWeights(c: ModelConfig, seed: number, std = 0.08): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of parameterSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      a[i] = s.init === 'ones' ? 1 + 0.1 * z : s.init === 'zeros' ? 0.1 * z : std * z;
    }
    out.set(s.name, a);
  }
  return out;
}

/** GPT-2's byte -> printable character table (bytes that are not printable map to U+0100 onwards). */
function byteChars(): string[] {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}

/** A byte-level BPE tokenizer.json: ids 0..255 bytes, then merged tokens, then `<|endoftext|>`. */
export function byteLevelTokenizerJson(): Record<string, unknown> {
  const chars = byteChars();
  const vocab: Record<string, number> = {};
  chars.forEach((ch, i) => (vocab[ch] = i));
  const sp = chars[32]; // "Ġ"
  const pairs: [string, string][] = [
    ['t', 'h'],
    ['th', 'e'],
    [sp, 'the'],
    ['i', 'n'],
    [sp, 'a'],
    ['e', 'r'],
    [sp, 'w'],
    ['o', 'n'],
  ];
  for (const [a, b] of pairs) vocab[a + b] = Object.keys(vocab).length;
  const eosId = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [
      { id: eosId, content: '<|endoftext|>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: pairs.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Write a Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer.json unless null). */
export function writeTestCheckpoint(dir: string, c: ModelConfig, weights: ReadonlyMap<string, Float32Array>, tokenizer?: unknown): void {
  const specs = parameterSpecs(c);
  const extra = [...weights.keys()].filter((n) => !specs.some((s) => s.name === n));
  const tensors = [
    ...specs
      .filter((s) => weights.has(s.name))
      .map((s) => {
        const data = must(weights.get(s.name), s.name);
        return { name: s.name, shape: data.length === s.shape.reduce((a, b) => a * b, 1) ? s.shape : [data.length], data };
      }),
    ...extra.map((n) => {
      const data = must(weights.get(n), n);
      return { name: n, shape: [1, data.length], data };
    }),
  ];
  writeWeights(dir, tensors);
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(toHfConfig(c)));
  if (tokenizer !== undefined && tokenizer !== null) writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
}

/** Our logits (T, V) for every position of `ids`, from @lwz/model's forward (one prefix per batch row). */
export function oursLogits(model: Qwen2Model, ids: readonly number[]): Float32Array {
  const T = ids.length;
  const V = model.config.vocabSize;
  const rows = new Int32Array(T * T); // (B=T, T): row b is ids[0..b], right-padded with zeros
  for (let b = 0; b < T; b++) for (let t = 0; t <= b; t++) rows[b * T + t] = ids[t];
  const batch = {
    ids: tensor(rows, [T, T], { device: model.device, dtype: 'i32' }),
    targets: tensor(new Int32Array(T * T), [T, T], { device: model.device, dtype: 'i32' }),
    lengths: Array.from({ length: T }, (_, b) => b + 1),
  };
  model.forwardLogprobs(batch, { lastLogits: true }).logprobs.dispose();
  const out = Float32Array.from(must(model.lastLogits, 'lastLogits').toHost()); // (T, V)
  if (out.length !== T * V) throw new Error('oursLogits: unexpected lastLogits size');
  batch.ids.dispose();
  batch.targets.dispose();
  return out;
}

/** Our logits (V,) at the last position of `ids` (one B=1 forward). */
export function lastRowLogits(model: Qwen2Model, ids: readonly number[]): Float32Array {
  const T = ids.length;
  const batch = {
    ids: tensor(Int32Array.from(ids), [1, T], { device: model.device, dtype: 'i32' }),
    targets: tensor(new Int32Array(T), [1, T], { device: model.device, dtype: 'i32' }),
  };
  model.forwardLogprobs(batch, { lastLogits: true }).logprobs.dispose();
  batch.ids.dispose();
  batch.targets.dispose();
  return Float32Array.from(must(model.lastLogits, 'lastLogits').toHost());
}

/** Row-wise log-softmax of (rows, V) logits, in float64. */
export function logSoftmaxRows(logits: ArrayLike<number>, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[r * V + v] - max);
    const lz = Math.log(z) + max;
    for (let v = 0; v < V; v++) out[r * V + v] = logits[r * V + v] - lz;
  }
  return out;
}

export function argmax(a: ArrayLike<number>, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[start + i] > a[start + best]) best = i;
  return best;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
