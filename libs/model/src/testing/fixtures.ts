// Test fixtures: tiny configs covering the variants issue #4 names (tied/untied embeddings, GQA 4:2 and 4:1,
// with and without q/k/v biases), random models with weights large enough that log-probs are far from
// uniform, and float64 copies of the weights for the reference. Test-only: reached through @lwz/model/testing.
import { Rng } from '@lwz/core';
import { tensor, type Device, type Tensor } from '@lwz/kernels';
import { initModel } from '../checkpoint';
import type { ModelConfig } from '../config';
import type { Qwen2Model } from '../model';
import type { ModelRuntimeInput } from '../runtime';

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    modelType: 'qwen2',
    vocabSize: 29,
    hiddenSize: 16,
    intermediateSize: 24,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: 64,
    attentionBias: true,
    initializerRange: 0.02,
    ...over,
  };
}

export const VARIANTS: [string, ModelConfig][] = [
  ['tied, GQA 4:2, biases', tinyConfig()],
  ['untied, GQA 4:1, biases', tinyConfig({ tieWordEmbeddings: false, numKvHeads: 1 })],
  [
    'untied, MHA 4:4, llama (no biases), head_dim 6',
    tinyConfig({ modelType: 'llama', attentionBias: false, tieWordEmbeddings: false, numKvHeads: 4, headDim: 6 }),
  ],
];

/** A model whose weights are N(0, std) (norm weights 1 + N(0, std), biases N(0, std)). */
export function randomModel(
  cfg: ModelConfig,
  seed: number,
  device: Device = 'ref',
  std = 0.4,
  runtime: ModelRuntimeInput = {},
): Qwen2Model {
  const model = initModel(cfg, new Rng(seed), device, runtime);
  const rng = new Rng(seed + 1000);
  for (const p of model.store.params) {
    const d = p.value.f32;
    const isNorm = p.name.endsWith('norm.weight');
    for (let i = 0; i < d.length; i++) d[i] = (isNorm ? 1 : 0) + rng.normal() * std;
  }
  return model;
}

export function float64Weights(model: Qwen2Model): Map<string, Float64Array> {
  return new Map(model.store.params.map((p) => [p.name, Float64Array.from(p.value.f32)]));
}

export function randomIds(rng: Rng, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => rng.int(vocab));
}

/** A right-padded (B, T) batch of sequences: ids, next-token targets (-1 at each row's last token). */
export function padBatch(
  seqs: number[][],
  device: Device = 'ref',
  padId = 0,
): { ids: Tensor; targets: Tensor; lengths: number[]; T: number } {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-1);
  seqs.forEach((s, b) => {
    s.forEach((id, t) => {
      ids[b * T + t] = id;
      if (t + 1 < s.length) targets[b * T + t] = s[t + 1];
    });
  });
  return {
    ids: tensor(ids, [B, T], { device, dtype: 'i32' }),
    targets: tensor(targets, [B, T], { device, dtype: 'i32' }),
    lengths: seqs.map((s) => s.length),
    T,
  };
}
