// An ONNX sequence-classification reward model as the quality reward's scorer, registered as "onnx-rm": our
// own `npx lwz-train export --format onnx --variant score` output (inputs input_ids, attention_mask,
// position_ids (B, T) int64; output `scores` (B,), the value head at each row's last attended token) plus
// the tokenizer.json it was trained with, run by onnxruntime-node in a worker thread (@lwz/export OrtWorker).
// Answers are read by rmInputIds (rm-input.ts), right-padded in length-sorted micro-batches; score =
// sigmoid(raw) as for the built-in RM. Not a chat-template reader: a Hugging Face RM trained on prompt +
// answer chats, or a graph without position_ids, needs its own input rule first.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isUserError, z } from '@lwz/core';
import { OrtWorker, type OrtFeed } from '@lwz/export';
import { registerQualityScorer, type QualityItem, type QualityScore, type QualityScorer } from '@lwz/rewards';
import { Tokenizer } from '@lwz/tokenizer';
import {
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
import { RM_INPUT_VERSION, rmEndId, rmInputIds } from './rm-input';

export const onnxRmOptionsSchema = z
  .object({
    model: pathOption('the .onnx file of a score export, or the directory holding it'),
    tokenizer: pathOption("the reward model's tokenizer.json, or its directory (default: beside the .onnx file)").optional(),
    batchSize: batchSizeOption,
    maxTokens: maxTokensOption,
  })
  .strict();
export type OnnxRmOptions = z.input<typeof onnxRmOptionsSchema>;

const EXPORT_HINT =
  'export a reward model with `npx lwz-train export --checkpoint RM_DIR --format onnx --variant score --out DIR/model.onnx`';

/** The .onnx file a `model` option names: the file itself, or the one .onnx file in a directory. */
function resolveOnnx(model: string): string {
  existingPath('model', model, 'any', EXPORT_HINT);
  if (!statSync(model).isDirectory()) return model;
  const found = readdirSync(model).filter((f) => f.endsWith('.onnx'));
  if (found.length === 1) return join(model, found[0]);
  if (found.includes('model.onnx')) return join(model, 'model.onnx');
  const what = found.length ? `${found.length} .onnx files (${found.join(', ')}); name one` : `no .onnx file; ${EXPORT_HINT}`;
  throw optionError('model', `${model} holds ${what}`);
}

/** `eos_token_id` and `max_position_embeddings` from a config.json beside the model or the tokenizer. */
function sideConfig(dirs: readonly string[]): { path?: string; eos?: number | number[]; context?: number } {
  for (const d of dirs) {
    const path = join(d, 'config.json');
    if (!existsSync(path)) continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8')) ?? {};
    } catch (e) {
      throw optionError('model', `${path}: cannot read the model config (${(e as Error).message})`);
    }
    const eos = raw.eos_token_id as number | number[] | undefined;
    const ctx = raw.max_position_embeddings;
    return { path, eos: eos ?? undefined, context: typeof ctx === 'number' && Number.isInteger(ctx) && ctx >= 2 ? ctx : undefined };
  }
  return {};
}

export class OnnxRmScorer implements QualityScorer {
  /** `onnx-rm:<file name>@<fingerprint of the graph, its weights, tokenizer, config>#rm-input/N#max<maxTokens>` */
  readonly id: string;
  readonly modelPath: string;
  readonly batchSize: number;
  readonly maxTokens: number;
  readonly endId: number;
  private readonly tokenizer: Tokenizer;
  private worker: OrtWorker | null = null;

  /** Checks the options and files; onnxruntime starts on the first score() call. */
  constructor(options: OnnxRmOptions) {
    const o = parseScorerOptions(onnxRmOptionsSchema, options as Record<string, unknown>, 'onnx-rm');
    this.modelPath = resolveOnnx(o.model);
    const tokHint = "pass quality.options.tokenizer: the reward model's tokenizer.json";
    const tokGiven = o.tokenizer === undefined ? join(dirname(this.modelPath), 'tokenizer.json') : o.tokenizer;
    existingPath('tokenizer', tokGiven, 'any', tokHint);
    const tokPath = statSync(tokGiven).isDirectory() ? join(tokGiven, 'tokenizer.json') : tokGiven;
    existingPath('tokenizer', tokPath, 'file', tokHint);
    try {
      this.tokenizer = Tokenizer.fromFile(tokPath);
    } catch (e) {
      throw isUserError(e) ? optionError('tokenizer', e.message) : e;
    }
    const cfg = sideConfig([...new Set([dirname(this.modelPath), dirname(tokPath)])]);
    this.endId = rmEndId(this.tokenizer, cfg.eos);
    if (o.maxTokens === undefined && cfg.context === undefined) {
      throw optionError(
        'maxTokens',
        `no config.json with max_position_embeddings beside ${this.modelPath} to take the context from; set maxTokens (at most the model's context)`,
      );
    }
    if (o.maxTokens !== undefined && cfg.context !== undefined && o.maxTokens > cfg.context) {
      throw optionError(
        'maxTokens',
        `${o.maxTokens} exceeds the model's context (${cfg.path}: ${cfg.context}); use at most ${cfg.context}`,
      );
    }
    this.maxTokens = o.maxTokens ?? (cfg.context as number);
    this.batchSize = o.batchSize;
    const data = `${this.modelPath}.data`;
    const files = [this.modelPath, tokPath, ...(existsSync(data) ? [data] : []), ...(cfg.path ? [cfg.path] : [])];
    this.id = `onnx-rm:${basename(this.modelPath)}@${fileFingerprint(files)}#${RM_INPUT_VERSION}#max${this.maxTokens}`;
  }

  /** The token ids the RM reads for one item (its answer, else the whole response). */
  inputIds(item: QualityItem): number[] {
    return rmInputIds(this.tokenizer, item.answer ?? item.response, this.endId, this.maxTokens);
  }

  async score(items: readonly QualityItem[], options: { signal?: AbortSignal } = {}): Promise<QualityScore[]> {
    const rows = items.map((it) => this.inputIds(it));
    return scoreRows(rows, this.batchSize, (batch) => this.forward(batch), options.signal);
  }

  /** Stop the onnxruntime worker (an idle one does not keep the process alive; this frees its memory). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.close();
  }

  private async forward(batch: readonly number[][]): Promise<Float32Array> {
    const { ids, B, T, lengths } = rightPad(batch, this.endId);
    const dims = [B, T];
    const mask = ids.map((_, i) => (i % T < lengths[Math.floor(i / T)] ? 1 : 0)); // (B, T) 1 on real tokens
    const positions = ids.map((_, i) => i % T); // (B, T) 0..T-1 on every row (right padding)
    const feeds: Record<string, OrtFeed> = {
      input_ids: { type: 'int64', data: ids, dims },
      attention_mask: { type: 'int64', data: mask, dims },
      position_ids: { type: 'int64', data: positions, dims },
    };
    this.worker ??= new OrtWorker();
    let out;
    try {
      out = await this.worker.run(this.modelPath, feeds);
    } catch (e) {
      throw new Error(`onnx-rm: onnxruntime failed on ${this.modelPath}: ${(e as Error).message}`);
    }
    const scores = out.scores;
    if (!scores || scores.data.length !== B) {
      throw optionError(
        'model',
        `${this.modelPath} has no "scores" output of shape (batch,) (outputs: ${Object.keys(out).join(', ')}); is it a logits export? ${EXPORT_HINT}`,
      );
    }
    return scores.data;
  }
}

/** `quality.options` for "onnx-rm": `{model, tokenizer?, batchSize? = 8, maxTokens? = config.json's context}`. */
export function createOnnxRmScorer(options: Record<string, unknown>): OnnxRmScorer {
  return new OnnxRmScorer(options as OnnxRmOptions);
}

registerQualityScorer('onnx-rm', createOnnxRmScorer);
