import type { ModelConfig } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';

/**
 * The model lib's tinyConfig widened for rollout tests: 2 layers, hidden 32, 4:2 heads of 8, FFN 48, a 128-token
 * context, and initializerRange 0.3, whose random weights give peaked logits (sampled answers differ by seed but
 * are not uniform noise). `overrides` set the vocabulary (required) and anything else a test needs.
 */
export function smallTestConfig(overrides: Partial<ModelConfig> & Pick<ModelConfig, 'vocabSize'>): ModelConfig {
  return tinyConfig({ hiddenSize: 32, intermediateSize: 48, headDim: 8, maxPositionEmbeddings: 128, initializerRange: 0.3, ...overrides });
}
