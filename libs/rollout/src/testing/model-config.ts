import type { ModelConfig } from '@lwz/model';

/**
 * A 2-layer Qwen2 config small enough for unit tests (hidden 32, 4:2 heads of 8, FFN 48, attention biases) with
 * initializerRange 0.3, whose random weights give peaked logits: sampled answers then differ by seed but are
 * not uniform noise. `overrides` set the vocabulary (required), the context and anything else a test needs.
 */
export function smallTestConfig(overrides: Partial<ModelConfig> & Pick<ModelConfig, 'vocabSize'>): ModelConfig {
  return {
    modelType: 'qwen2',
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: 128,
    attentionBias: true,
    initializerRange: 0.3,
    ...overrides,
  };
}
