// Test fixtures for GRPO: the pretraining fixture's small BPE (it carries <think>/<answer> as added tokens)
// under a random one-layer model, and a config that runs a few fast steps on generated prompts with short
// answers. Its quality reward is a random one-layer reward model: a random policy never closes its tags, so the
// length and format rewards are the same for every answer, and without a reward that differs between answers no
// group would have spread and no step a gradient (the tests of updates and resumes would test nothing). Used by
// the GRPO tests only.
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { type Tensor, tensor } from '@lwz/kernels';
import { type ModelConfig, type Qwen2Model, addValueHead, initModel, modelPreset, saveModel } from '@lwz/model';
import { AdamW, policyLossConfigSchema } from '@lwz/optimizer';
import { createLengthPredictor, type QualityScorer, type RewardDeps } from '@lwz/rewards';
import { Tokenizer } from '@lwz/tokenizer';
import { pretrainFixture } from '../pretrain/testing';
import type { TrainRow } from './batch';
import type { GrpoConfig } from './config';
import { grpoUpdate, type UpdateInput, type UpdateResult } from './update';

export const SMALL_MODEL = { numLayers: 1, hiddenSize: 32, intermediateSize: 64, numHeads: 2, numKvHeads: 1, headDim: 16 };

/** The SMALL_MODEL shape on the tokenizer in tokDir: its vocabulary, <|endoftext|> as BOS and EOS. */
export function smallConfigFor(tokDir: string): ModelConfig {
  const tok = Tokenizer.fromFile(join(tokDir, 'tokenizer.json'));
  const eot = tok.tokenToId('<|endoftext|>') ?? 0;
  return { ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: tok.vocabSize, eosTokenId: eot, bosTokenId: eot };
}

/** A random one-layer reward model (value head) on the tokenizer in tokDir, saved beside it; its directory. */
export function randomRewardModel(tokDir: string): string {
  const dir = join(tokDir, '..', 'reward-model');
  saveModel(addValueHead(initModel(smallConfigFor(tokDir), new Rng(11)), new Rng(12)), dir, { tokenizer: tokDir });
  return dir;
}

/** Reward deps for tests: the given quality scorer beside the config's own length predictor. */
export function depsWithQuality(cfg: GrpoConfig, quality: QualityScorer): RewardDeps {
  return { quality, predictor: createLengthPredictor(cfg.rewards.length.predictor.name, cfg.rewards.length.predictor.options) };
}

/** A raw GRPO config (JSON-able) for a random one-layer model on the fixture's tokenizer. */
export function grpoTestConfig(out: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const f = pretrainFixture();
  return {
    name: 'grpo-test',
    out,
    seed: 3,
    model: { preset: 'tiny', overrides: SMALL_MODEL, tokenizer: f.tokDir },
    prompts: {
      perStep: 2,
      generator: { train: 20, heldout: 4, budget: { contextTokens: 160, reservedTokens: 60, tokensPerWord: 1.5, minWords: 10 } },
    },
    rollout: { n: 3, temperature: 1, maxNewTokens: 12, maxBatch: 8 },
    rewards: { quality: { scorer: 'builtin-rm', options: { checkpoint: randomRewardModel(f.tokDir) } } },
    optim: { lr: 1e-2 },
    steps: 6,
    miniBatches: 2,
    microBatchTokens: 2048,
    checkpointEvery: 2,
    keepLast: 10,
    reportEvery: 2,
    sampleSteps: 2,
    evaluation: { prompts: 3 },
    recomputeOldLogprobs: true,
    ...over,
  };
}

/** 4 random rows for a model of `vocab` tokens: prompts of 3 tokens, answers of 5, two groups of 2, advantages -1 / +1 unless given per row. */
export function tinyRows(vocab: number, advantages?: readonly number[]): TrainRow[] {
  const rng = new Rng(5);
  return Array.from({ length: 4 }, (_, r) => ({
    prompt: Array.from({ length: 3 }, () => rng.int(vocab)),
    answer: Array.from({ length: 5 }, () => rng.int(vocab)),
    advantage: advantages?.[r] ?? (r % 2 ? 1 : -1),
    group: r >> 1,
  }));
}

/**
 * One grpoUpdate of `model` on tinyRows (or `rows`) with AdamW over its trainable parameters (a fresh one unless
 * `optimizer` is given): 1 epoch, 2 mini-batches (one group each), clip 1, lr 1e-2, old log-probs recomputed, unless
 * `o` says otherwise. `extraGrads` join the clipped gradients (a stand-in for an overflow the model never writes).
 * Returns the result, the parameters it stepped and the optimizer.
 */
export function tinyGrpoUpdate(
  model: Qwen2Model,
  o: {
    ref?: Qwen2Model | 'adapters-off';
    loss?: Record<string, unknown>;
    extraGrads?: Tensor[];
    advantages?: readonly number[];
    optimizer?: AdamW;
    rows?: TrainRow[];
  } & Partial<Pick<UpdateInput, 'ppoEpochs' | 'miniBatches' | 'microBatchTokens' | 'recomputeOld' | 'gradClip' | 'lr'>> = {},
): { result: UpdateResult; named: { name: string; param: Tensor; grad: Tensor }[]; optimizer: AdamW } {
  const rows = o.rows ?? tinyRows(model.config.vocabSize, o.advantages);
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape);
    return { name: p.name, param: p.value, grad: p.grad };
  });
  const optimizer = o.optimizer ?? new AdamW(named);
  const result = grpoUpdate({
    model,
    ...(o.ref ? { ref: o.ref } : {}),
    optimizer,
    grads: [...named.map((p) => p.grad), ...(o.extraGrads ?? [])],
    rows,
    loss: policyLossConfigSchema.parse(o.loss ?? {}),
    ppoEpochs: o.ppoEpochs ?? 1,
    miniBatches: o.miniBatches ?? 2,
    microBatchTokens: o.microBatchTokens ?? 4096,
    recomputeOld: o.recomputeOld ?? true,
    gradClip: o.gradClip ?? 1,
    lr: o.lr ?? 1e-2,
    rng: new Rng(6),
  });
  return { result, named, optimizer };
}
