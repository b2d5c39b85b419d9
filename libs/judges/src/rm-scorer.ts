// The built-in reward model as the quality reward's scorer, registered as "builtin-rm": a Hugging Face
// sequence-classifier checkpoint (Qwen2ForSequenceClassification, num_labels 1, `score.weight`, no bias: the
// output of `npx lwz-train train-rm`) run in process by @lwz/model. Each answer is read by rmInputIds
// (rm-input.ts) and scored in length-sorted, right-padded micro-batches; score = sigmoid(raw) (rm-common.ts).
// Options and files are checked when the scorer is made; the weights load once, on the first score() call.
// Not the training (apps/trainer train-rm) and not the ONNX runner (onnx-rm-scorer.ts).
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { isUserError, z } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { loadModel, openWeights, readModelConfig, type ModelConfig, type Qwen2Model, checkpointInRunDir } from '@lwz/model';
import { registerQualityScorer, type QualityItem, type QualityScore, type QualityScorer } from '@lwz/rewards';
import { Tokenizer } from '@lwz/tokenizer';
import {
  CutNotice,
  batchSizeOption,
  existingPath,
  fileFingerprint,
  maxTokensOption,
  optionError,
  parseScorerOptions,
  pathOption,
  rightPad,
  scoreRows,
} from './rm-common';
import { RM_INPUT_VERSION, rmEndId, rmInput, type RmInput } from './rm-input';

export const builtinRmOptionsSchema = z
  .object({
    checkpoint: pathOption('the reward-model checkpoint directory that `npx lwz-train train-rm` writes'),
    batchSize: batchSizeOption,
    maxTokens: maxTokensOption,
  })
  .strict();
export type BuiltinRmOptions = z.input<typeof builtinRmOptionsSchema>;

const TRAIN_RM_HINT = 'train a reward model with `npx lwz-train train-rm` and point quality.options.checkpoint at its output directory';

export class BuiltinRmScorer implements QualityScorer {
  /** `builtin-rm:<dir name>@<fingerprint of config, tokenizer, weights>#rm-input/N#max<maxTokens>` */
  readonly id: string;
  readonly checkpoint: string;
  readonly config: ModelConfig;
  readonly batchSize: number;
  readonly maxTokens: number;
  readonly endId: number;
  private readonly tokenizer: Tokenizer;
  private model: Qwen2Model | null = null;
  private readonly cutNotice: CutNotice;

  /** Checks the options and the checkpoint's files (config, value head, tokenizer); loads no weights yet. */
  constructor(options: BuiltinRmOptions) {
    const o = parseScorerOptions(builtinRmOptionsSchema, options as Record<string, unknown>, 'builtin-rm');
    const dir = existingPath('checkpoint', o.checkpoint, 'directory', TRAIN_RM_HINT);
    // a run directory: readModelConfig points at its checkpoint, which helps only when that one is a reward model
    // (`runs/rm-tiny` -> model); a policy run's checkpoints (`runs/grpo-tiny`) would just fail next for no value head
    const inRun = checkpointInRunDir(dir);
    if (inRun && existsSync(join(inRun, 'config.json')) && asChecked(() => readModelConfig(inRun)).numLabels === undefined)
      throw optionError(
        'checkpoint',
        `${dir} is a training run whose checkpoints are language models, not a reward model (no value head); ${TRAIN_RM_HINT}`,
      );
    this.config = asChecked(() => readModelConfig(dir));
    if (this.config.numLabels === undefined) {
      throw optionError('checkpoint', `${dir} is a causal language model (no value head in config.json); ${TRAIN_RM_HINT}`);
    }
    const weights = asChecked(() => openWeights(dir));
    if (!weights.entry('score.weight')) {
      throw optionError(
        'checkpoint',
        `${dir}: config.json names a sequence classifier but the weights have no "score.weight"; ${TRAIN_RM_HINT}`,
      );
    }
    const tokPath = join(dir, 'tokenizer.json');
    if (!existsSync(tokPath)) {
      throw optionError('checkpoint', `${dir} has no tokenizer.json; copy the tokenizer.json the reward model was trained with into it`);
    }
    this.tokenizer = asChecked(() => Tokenizer.fromFile(tokPath));
    if (this.tokenizer.vocabSize > this.config.vocabSize) {
      throw optionError(
        'checkpoint',
        `${tokPath} has ${this.tokenizer.vocabSize} ids but the model only ${this.config.vocabSize}; use the tokenizer the model was trained with`,
      );
    }
    this.endId = rmEndId(this.tokenizer, this.config.eosTokenId);
    const context = this.config.maxPositionEmbeddings;
    if (o.maxTokens !== undefined && o.maxTokens > context) {
      throw optionError(
        'maxTokens',
        `${o.maxTokens} exceeds the model's context (max_position_embeddings ${context}); use at most ${context}`,
      );
    }
    this.maxTokens = o.maxTokens ?? context;
    this.cutNotice = new CutNotice(`builtin-rm ${dir}`, this.maxTokens);
    this.batchSize = o.batchSize;
    this.checkpoint = dir;
    const files = [join(dir, 'config.json'), tokPath, ...weights.names().map((n) => weights.entry(n)?.path as string)];
    this.id = `builtin-rm:${basename(resolve(dir))}@${fileFingerprint(files)}#${RM_INPUT_VERSION}#max${this.maxTokens}`;
  }

  /** The token ids the RM reads for one item (its answer, else the whole response). */
  inputIds(item: QualityItem): number[] {
    return this.input(item).ids;
  }

  private input(item: QualityItem): RmInput {
    return rmInput(this.tokenizer, item.answer ?? item.response, this.endId, this.maxTokens);
  }

  async score(items: readonly QualityItem[], options: { signal?: AbortSignal } = {}): Promise<QualityScore[]> {
    const inputs = items.map((it) => this.input(it));
    const model = this.loaded();
    const scores = await scoreRows(
      inputs.map((x) => x.ids),
      this.batchSize,
      async (batch) => {
        const { ids, B, T, lengths } = rightPad(batch, this.endId);
        const x = tensor(Int32Array.from(ids), [B, T], { device: model.device, dtype: 'i32' }); // (B, T)
        const scores = model.forwardScores({ ids: x, lengths }); // (B,)
        const raw = scores.toHost();
        scores.dispose();
        x.dispose();
        return raw;
      },
      options.signal,
    );
    return this.cutNotice.mark(scores, inputs);
  }

  /** Free the weights; a later score() loads them again. */
  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }

  private loaded(): Qwen2Model {
    this.model ??= loadModel(this.checkpoint);
    return this.model;
  }
}

/** A checkpoint problem reported against the option that named it. */
function asChecked<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isUserError(e)) throw optionError('checkpoint', e.message);
    throw e;
  }
}

/** `quality.options` for "builtin-rm": `{checkpoint, batchSize? = 8, maxTokens? = the model's context}`. */
export function createBuiltinRmScorer(options: Record<string, unknown>): BuiltinRmScorer {
  return new BuiltinRmScorer(options as BuiltinRmOptions);
}

registerQualityScorer('builtin-rm', createBuiltinRmScorer);
