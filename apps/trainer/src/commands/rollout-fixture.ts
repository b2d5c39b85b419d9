// Test fixture for the sample and serve commands: a small random Qwen2 checkpoint (peaked logits) with a
// BPE tokenizer trained on a few sentences, written to `dir/ckpt` (a 1024-token context unless told). Test code only.
import { join } from 'node:path';
import { Rng, writeJsonAtomic } from '@lwz/core';
import { initModel, saveModel } from '@lwz/model';
import { smallTestConfig } from '@lwz/rollout/testing';
import { toTokenizerConfig, toTokenizerJson, trainBpe } from '@lwz/tokenizer';

export function writeRolloutCheckpoint(dir: string, context = 1024): string {
  const text = 'Write a short story about the sea and the sky. Plan first, then answer. '.repeat(40);
  const trained = trainBpe([text], { vocabSize: 300 });
  writeJsonAtomic(join(dir, 'tok', 'tokenizer.json'), toTokenizerJson(trained));
  writeJsonAtomic(join(dir, 'tok', 'tokenizer_config.json'), toTokenizerConfig(trained));
  const model = initModel(
    smallTestConfig({
      vocabSize: trained.vocab.length + trained.specialTokens.length,
      maxPositionEmbeddings: context,
      initializerRange: 0.2,
    }),
    new Rng(1),
  );
  const ckpt = join(dir, 'ckpt');
  saveModel(model, ckpt, { tokenizer: join(dir, 'tok') });
  return ckpt;
}
