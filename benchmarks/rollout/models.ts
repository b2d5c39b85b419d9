// The rollout benchmarks' checkpoints: random Qwen2 models in Hugging Face layout with a 4096-token BPE
// trained on Moby-Dick, and the same weights exported to an f32 GGUF for llama.cpp. Built once into
// os.tmpdir()/lwz-bench-rollout/<name> and reused (delete the folder to rebuild). Random weights: decode
// speed does not depend on their values. Not a suite (no .bench.ts).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, writeJsonAtomic } from '@lwz/core';
import { loadMobyDick } from '@lwz/data';
import { exportCheckpoint } from '@lwz/export';
import { initModel, modelPreset, saveModel, type ModelConfig } from '@lwz/model';
import { toTokenizerConfig, toTokenizerJson, trainBpe } from '@lwz/tokenizer';

const ROOT = join(tmpdir(), 'lwz-bench-rollout');

/** ~107 M parameters: 12 layers, hidden 768, GQA 12:4, FFN 3072 (the "~100M random Qwen2"). */
const qwen2_100m: ModelConfig = {
  ...modelPreset('tiny'),
  hiddenSize: 768,
  intermediateSize: 3072,
  numLayers: 12,
  numHeads: 12,
  numKvHeads: 4,
  headDim: 64,
  maxPositionEmbeddings: 4096,
};

export const BENCH_MODELS: Record<string, ModelConfig> = {
  tiny: modelPreset('tiny'),
  'bench-5m': modelPreset('bench-5m'),
  'qwen2-100m': qwen2_100m,
};

function tokenizerDir(): string {
  const dir = join(ROOT, 'tokenizer');
  if (existsSync(join(dir, 'tokenizer.json'))) return dir;
  const text = loadMobyDick()
    .slice(0, 30)
    .map((d) => d.text);
  const trained = trainBpe(text, { vocabSize: 4096 });
  writeJsonAtomic(join(dir, 'tokenizer_config.json'), toTokenizerConfig(trained));
  writeJsonAtomic(join(dir, 'tokenizer.json'), toTokenizerJson(trained));
  return dir;
}

export interface BenchCheckpoint {
  dir: string;
  gguf: string;
  config: ModelConfig;
}

/** The checkpoint and its GGUF for a named benchmark model (built on first use). */
export function benchCheckpoint(name: string): BenchCheckpoint {
  const config = BENCH_MODELS[name];
  if (!config) throw new Error(`no benchmark model ${name}`);
  const dir = join(ROOT, name);
  const gguf = join(ROOT, `${name}.gguf`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    const model = initModel(config, new Rng(1));
    saveModel(model, dir, { tokenizer: tokenizerDir() });
    model.dispose();
  }
  if (!existsSync(gguf)) exportCheckpoint({ checkpoint: dir, format: 'gguf', out: gguf, dtype: 'f32' });
  return { dir, gguf, config };
}

/** A deterministic prompt of `n` token ids below the vocabulary size. */
export function benchPrompt(n: number, vocab: number, salt = 0): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729 + 13) % (vocab - 16));
}
