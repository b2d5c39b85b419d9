// Named model shapes. `tiny` is the CPU default (about 4 M parameters, the default tokenizer's 4096-token
// vocabulary, 2048-token context); `qwen2.5-0.5b` has the real Qwen2.5-0.5B shapes (so its checkpoints and
// ours are interchangeable); `bench-5m` is the benchmark shape from issue #4. Not a model zoo: no weights here.
import { UserError } from '@lwz/core';
import type { ModelConfig } from './config';

const tiny: ModelConfig = {
  modelType: 'qwen2',
  vocabSize: 4096,
  hiddenSize: 256,
  intermediateSize: 704,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 2048,
  attentionBias: true,
  initializerRange: 0.02,
};

const bench5m: ModelConfig = {
  ...tiny,
  intermediateSize: 1024,
  numKvHeads: 4,
  maxPositionEmbeddings: 4096,
};

const qwen25_05b: ModelConfig = {
  modelType: 'qwen2',
  vocabSize: 151936,
  hiddenSize: 896,
  intermediateSize: 4864,
  numLayers: 24,
  numHeads: 14,
  numKvHeads: 2,
  headDim: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 1000000,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 32768,
  attentionBias: true,
  initializerRange: 0.02,
  bosTokenId: 151643,
  eosTokenId: 151643,
};

export const MODEL_PRESETS: Readonly<Record<string, ModelConfig>> = {
  tiny,
  'bench-5m': bench5m,
  'qwen2.5-0.5b': qwen25_05b,
};

export function modelPreset(name: string): ModelConfig {
  const p = MODEL_PRESETS[name];
  if (!p) throw new UserError(`unknown model preset "${name}"; choose one of: ${Object.keys(MODEL_PRESETS).join(', ')}`);
  return { ...p };
}
