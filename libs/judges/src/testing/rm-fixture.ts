// Test fixture for the reward-model scorers (and train-rm's tests): a tiny random Qwen2 reward model
// (Qwen2ForSequenceClassification with a seeded value head) or causal LM, saved in Hugging Face layout with a
// small BPE tokenizer trained on a few sentences. Test code only: the weights are random, the scores mean nothing.
import { join } from 'node:path';
import { Rng, writeJsonAtomic } from '@lwz/core';
import { addValueHead, initModel, saveModel, type ModelConfig } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { END_OF_TEXT, toTokenizerConfig, toTokenizerJson, trainBpe } from '@lwz/tokenizer';

export interface TinyRmOptions {
  /** weights and value head seed (default 1) */
  seed?: number;
  /** save the causal LM without a value head (default false) */
  causal?: boolean;
  /** the context, max_position_embeddings (default 64) */
  context?: number;
}

const CORPUS = 'The sea was calm and the sky was grey. She wrote a long story about the harbour, then read it aloud. ';

/** Write `dir/tok` (tokenizer) and `dir/<name>` (the checkpoint with the tokenizer copied in); returns the checkpoint path. */
export function writeTinyRewardModel(dir: string, name: string, opts: TinyRmOptions = {}): string {
  const trained = trainBpe([CORPUS.repeat(20)], { vocabSize: 300 });
  const tokDir = join(dir, 'tok');
  writeJsonAtomic(join(tokDir, 'tokenizer.json'), toTokenizerJson(trained));
  writeJsonAtomic(join(tokDir, 'tokenizer_config.json'), toTokenizerConfig(trained));
  const eot = trained.vocab.length + trained.specialTokens.findIndex((t) => t.content === END_OF_TEXT);
  const config: ModelConfig = tinyConfig({
    vocabSize: trained.vocab.length + trained.specialTokens.length,
    intermediateSize: 32,
    maxPositionEmbeddings: opts.context ?? 64,
    initializerRange: 0.3,
    bosTokenId: eot,
    eosTokenId: eot,
  });
  const rng = new Rng(opts.seed ?? 1);
  const lm = initModel(config, rng.split('body'));
  const model = opts.causal ? lm : addValueHead(lm, rng.split('head'), 1);
  const out = join(dir, name);
  saveModel(model, out, { tokenizer: tokDir });
  model.dispose();
  return out;
}
