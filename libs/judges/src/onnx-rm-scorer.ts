// An ONNX sequence-classification reward model as the quality reward's scorer, registered as "onnx-rm". Two
// graph interfaces: our own `npx lwz-train export --format onnx --variant score` (inputs input_ids,
// attention_mask, position_ids (B, T) int64; output `scores` (B,)), and a Hugging Face classifier's (input_ids
// and attention_mask, output `logits` (B, 1): an optimum export, or our `--variant seq-cls`); position_ids is
// fed only to graphs that take it. Plus the tokenizer.json it was trained with, run by onnxruntime-node in a
// worker thread (@lwz/export OrtWorker). What it reads (`input`): the answer alone by our rule (rm-input.ts), or
// the prompt + answer chat in the tokenizer's own chat template (Hugging Face RMs). Right-padded in
// length-sorted micro-batches; score = sigmoid(raw) as for the built-in RM. Not a multi-label classifier.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isUserError, z } from '@lwz/core';
import { OrtWorker, type OrtFeed } from '@lwz/export';
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
import { RM_CHAT_INPUT_VERSION, RM_INPUT_VERSION, rmChatInput, rmEndId, rmInput, type RmInput } from './rm-input';

export const onnxRmOptionsSchema = z
  .object({
    model: pathOption('the .onnx file of a score export, or the directory holding it'),
    tokenizer: pathOption("the reward model's tokenizer.json, or its directory (default: beside the .onnx file)").optional(),
    batchSize: batchSizeOption,
    maxTokens: maxTokensOption,
    input: z
      .enum(['answer', 'chat'])
      .default('answer')
      .describe(
        'what the RM reads: "answer" (the answer text + end-of-text, our RMs) or "chat" (user prompt + assistant answer in the tokenizer\'s chat_template, most Hugging Face RMs)',
      ),
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

/** `eos_token_id`, `pad_token_id` and `max_position_embeddings` from a config.json beside the model or the tokenizer. */
function sideConfig(dirs: readonly string[]): { path?: string; eos?: number | number[]; pad?: number; context?: number } {
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
    const pad = typeof raw.pad_token_id === 'number' ? raw.pad_token_id : undefined;
    return { path, eos: eos ?? undefined, pad, context: typeof ctx === 'number' && Number.isInteger(ctx) && ctx >= 2 ? ctx : undefined };
  }
  return {};
}

export class OnnxRmScorer implements QualityScorer {
  /** `onnx-rm:<file name>@<fingerprint of the graph, its weights, tokenizer, config>#<input rule version>#max<maxTokens>` */
  readonly id: string;
  readonly input: 'answer' | 'chat';
  readonly modelPath: string;
  readonly batchSize: number;
  readonly maxTokens: number;
  readonly endId: number;
  /** the id right padding uses: the end id for "answer"; for "chat" the config's pad_token_id (else eos), as a classifier that pools at the last non-pad token expects */
  readonly padId: number;
  private readonly tokenizer: Tokenizer;
  private worker: OrtWorker | null = null;
  private readonly cutNotice: CutNotice;

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
    this.input = o.input;
    if (o.input === 'chat' && !this.tokenizer.config.chatTemplate) {
      throw optionError(
        'input',
        `"chat" needs a chat_template in ${join(dirname(tokPath), 'tokenizer_config.json')}; add it, or use input "answer"`,
      );
    }
    this.padId = o.input === 'chat' ? (cfg.pad ?? this.endId) : this.endId;
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
    this.cutNotice = new CutNotice(`onnx-rm ${this.modelPath}`, this.maxTokens);
    this.batchSize = o.batchSize;
    const data = `${this.modelPath}.data`;
    const files = [this.modelPath, tokPath, ...(existsSync(data) ? [data] : []), ...(cfg.path ? [cfg.path] : [])];
    // the chat input's template: tokenizer_config.json, or chat_template.jinja beside it (Tokenizer.fromFile)
    for (const name of ['tokenizer_config.json', 'chat_template.jinja']) {
      const file = join(dirname(tokPath), name);
      if (o.input === 'chat' && existsSync(file)) files.push(file);
    }
    const rule = o.input === 'chat' ? RM_CHAT_INPUT_VERSION : RM_INPUT_VERSION;
    this.id = `onnx-rm:${basename(this.modelPath)}@${fileFingerprint(files)}#${rule}#max${this.maxTokens}`;
  }

  /** The token ids the RM reads for one item: its answer (else the whole response), alone or in the chat. */
  inputIds(item: QualityItem): number[] {
    return this.read(item).ids;
  }

  private read(item: QualityItem): RmInput {
    const answer = item.answer ?? item.response;
    if (this.input === 'chat') return rmChatInput(this.tokenizer, item.prompt, answer, this.maxTokens);
    return rmInput(this.tokenizer, answer, this.endId, this.maxTokens);
  }

  async score(items: readonly QualityItem[], options: { signal?: AbortSignal } = {}): Promise<QualityScore[]> {
    const inputs = items.map((it) => this.read(it));
    const scores = await scoreRows(
      inputs.map((x) => x.ids),
      this.batchSize,
      (batch) => this.forward(batch),
      options.signal,
    );
    return this.cutNotice.mark(scores, inputs);
  }

  /** Stop the onnxruntime worker (an idle one does not keep the process alive; this frees its memory). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.close();
  }

  private async forward(batch: readonly number[][]): Promise<Float32Array> {
    const { ids, B, T, lengths } = rightPad(batch, this.padId);
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
      out = await this.worker.run(this.modelPath, feeds, ['position_ids']);
    } catch (e) {
      throw new Error(`onnx-rm: onnxruntime failed on ${this.modelPath}: ${(e as Error).message}`);
    }
    // ours: scores (B,); a Hugging Face classifier: logits (B, 1)
    const scores = out.scores ?? out.logits;
    if (!scores || scores.data.length !== B) {
      const shapes = Object.entries(out).map(([k, v]) => `${k} (${v.dims.join(', ')})`);
      throw optionError(
        'model',
        `${this.modelPath} has no "scores" (batch,) or "logits" (batch, 1) output (it has ${shapes.join(', ')}); is it a language-model export? ${EXPORT_HINT}`,
      );
    }
    return scores.data;
  }
}

/** `quality.options` for "onnx-rm": `{model, tokenizer?, batchSize? = 8, maxTokens? = config.json's context, input? = "answer"}`. */
export function createOnnxRmScorer(options: Record<string, unknown>): OnnxRmScorer {
  return new OnnxRmScorer(options as OnnxRmOptions);
}

registerQualityScorer('onnx-rm', createOnnxRmScorer);
