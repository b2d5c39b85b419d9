// `lwz-train export`: read a Hugging Face checkpoint directory (config.json, safetensors, tokenizer files),
// check it, and write a GGUF or ONNX file atomically (ONNX weights go to `<out>.data` beside the model when
// they would pass protobuf's 2 GB limit). Every input problem is a UserError raised before any byte is
// written, so a failed export leaves no partial file. Not a converter for other architectures.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError, writeFileAtomic } from '@lwz/core';
import { openWeights, parameterSpecs, readModelConfig, type ModelConfig } from '@lwz/model';
import { buildGguf, ggufArchitecture, type GgufSpecialIds } from './gguf-export';
import { ggufChunks } from './gguf-writer';
import { ggufTokenizerKind } from './gguf-tokenizer';
import { buildDecoderOnnx, ONNX_VARIANTS, type OnnxVariant } from './onnx-decoder';
import { vocabFromTokenizerJson, type GgufVocab } from './tokenizer-vocab';
import { checkExportDtype, checkExportWeights, type ExportDtype } from './weights-check';
import { F16_LIMIT, firstF16Overflow } from './tensor-convert';
import { readTokenizerConfig } from '@lwz/tokenizer';

export type ExportFormat = 'gguf' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['gguf', 'onnx'];

/** protobuf messages cannot exceed 2 GiB; keep headroom for the graph itself */
export const ONNX_INLINE_LIMIT = 2 ** 31 - 64 * 2 ** 20;

export interface ExportOptions {
  checkpoint: string;
  format: string;
  out: string;
  dtype?: string;
  /** ONNX only (default `logits`) */
  variant?: string;
  /** ONNX only: store weights externally above this many bytes (default ONNX_INLINE_LIMIT) */
  externalDataThreshold?: number;
}

export interface ExportResult {
  out: string;
  format: ExportFormat;
  dtype: ExportDtype;
  architecture: string;
  bytes: number;
  externalData?: string;
  /** what the user should know about the file (e.g. a normalization the target runtime does not apply) */
  notes: string[];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

/** Read every tensor the config implies (plus an optional value head), checking names and shapes. */
function readWeights(dir: string, c: ModelConfig): Map<string, Float32Array> {
  const src = openWeights(dir);
  const weights = new Map<string, Float32Array>();
  for (const s of parameterSpecs(c)) {
    const e = src.entry(s.name);
    if (!e) continue;
    if (e.shape.join() !== s.shape.join()) {
      throw new UserError(`${e.path}: tensor "${s.name}" has shape [${e.shape.join(', ')}], config.json implies [${s.shape.join(', ')}]`);
    }
    const data = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    src.readInto(s.name, data);
    weights.set(s.name, data);
  }
  checkExportWeights(c, weights, dir);
  for (const name of ['score.weight', 'score.bias']) {
    const e = src.entry(name);
    if (!e) continue;
    const data = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    src.readInto(name, data);
    weights.set(name, data);
  }
  return weights;
}

function tokenId(token: unknown, vocab: GgufVocab): number | undefined {
  const text = typeof token === 'string' ? token : (token as { content?: unknown } | null)?.content;
  if (typeof text !== 'string') return undefined;
  const added = vocab.added.get(text);
  if (added !== undefined) return added;
  const i = vocab.tokens.indexOf(text);
  return i >= 0 ? i : undefined;
}

/** BOS/EOS/padding ids: config.json first, then tokenizer_config.json, then `<|endoftext|>`. */
function specialIds(dir: string, c: ModelConfig, vocab: GgufVocab): GgufSpecialIds {
  const tcPath = join(dir, 'tokenizer_config.json');
  const tc = (existsSync(tcPath) ? readJson(tcPath) : {}) as Record<string, unknown>;
  const eosCfg = Array.isArray(c.eosTokenId) ? c.eosTokenId[0] : c.eosTokenId;
  const eos = eosCfg ?? tokenId(tc.eos_token, vocab) ?? vocab.added.get('<|endoftext|>');
  const bos = c.bosTokenId ?? tokenId(tc.bos_token, vocab) ?? eos;
  const pad = tokenId(tc.pad_token, vocab) ?? eos;
  return { ...(bos !== undefined ? { bos } : {}), ...(eos !== undefined ? { eos } : {}), ...(pad !== undefined ? { pad } : {}) };
}

/** Returns notes for the user (what the file cannot carry). */
function exportGguf(dir: string, c: ModelConfig, weights: Map<string, Float32Array>, dtype: ExportDtype, out: string): string[] {
  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) {
    throw new UserError(
      `${dir}: no tokenizer.json; GGUF files embed the tokenizer, so copy the tokenizer.json the model was trained with into the checkpoint directory`,
    );
  }
  const json = readJson(tokPath);
  const vocab = vocabFromTokenizerJson(json, c.vocabSize, tokPath);
  const kind = ggufTokenizerKind(json, tokPath);
  // tokenizer_config.json's or chat_template.jinja's, as Tokenizer.fromFile reads them (the vocabulary is not built again)
  const chatTemplate = readTokenizerConfig(tokPath).chatTemplate;
  const special = specialIds(dir, c, vocab);
  if (kind.eos !== undefined && special.eos !== undefined && kind.eos !== special.eos) {
    throw new UserError(
      `${tokPath}: its post_processor appends token ${kind.eos} after every sequence, but the model's eos_token_id is ${special.eos}; llama.cpp appends only its EOS, so the GGUF would tokenize differently; export to ONNX instead`,
    );
  }
  const { metadata, tensors } = buildGguf(c, weights, vocab, {
    dtype,
    special,
    name: 'lwz-model',
    preTokenizer: kind.pre,
    ...(kind.bos !== undefined ? { addBos: kind.bos } : {}),
    ...(kind.eos !== undefined ? { addEos: kind.eos } : {}),
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  });
  writeFileAtomic(out, ggufChunks(metadata, tensors));
  return kind.nfc
    ? [
        `${tokPath} normalizes text to NFC and llama.cpp does not: give llama.cpp NFC-normalized text (a decomposed accent such as "e" + U+0301 tokenizes differently otherwise)`,
      ]
    : [];
}

function exportOnnx(
  c: ModelConfig,
  weights: Map<string, Float32Array>,
  dtype: ExportDtype,
  variant: OnnxVariant,
  out: string,
  threshold: number,
): string | undefined {
  const graph = buildDecoderOnnx(c, weights, variant, dtype);
  const dataPath = graph.weightBytes > threshold ? `${out}.data` : undefined;
  const meta = { 'lwz.variant': variant, 'lwz.model_type': c.modelType, 'lwz.vocab_size': String(c.vocabSize) };
  const { model, externalData } = graph.serialize({ externalDataPath: dataPath, metadata: meta });
  if (dataPath && externalData) writeFileAtomic(dataPath, externalData);
  try {
    writeFileAtomic(out, model);
  } catch (e) {
    if (dataPath) rmSync(dataPath, { force: true });
    throw e;
  }
  return dataPath;
}

/**
 * f16 weights (the matrices, as both writers halve them: norms and biases stay f32) must hold their values: one
 * past 65504 would be written as infinity, and the exported model would compute NaN where ours computes numbers.
 */
function refuseF16Overflow(c: ModelConfig, weights: Map<string, Float32Array>, dir: string): void {
  for (const spec of parameterSpecs(c)) {
    const values = weights.get(spec.name);
    const i = spec.shape.length >= 2 && values ? firstF16Overflow(values) : -1;
    if (i >= 0)
      throw new UserError(
        `${dir}: tensor "${spec.name}" holds ${(values as Float32Array)[i]} (at index ${i}), beyond f16's largest value ${F16_LIMIT}: --dtype f16 would write it as infinity; export with --dtype f32`,
      );
  }
}

/** --out must not replace a file of the checkpoint being read (its weights, config or tokenizer). */
function refuseOutInsideCheckpoint(out: string, checkpoint: string): void {
  const checkpointFile = /\.(safetensors|json|jinja)$/.test(basename(out));
  if (checkpointFile && existsSync(out) && resolve(dirname(out)) === resolve(checkpoint))
    throw new UserError(`--out ${out} would replace a file of the checkpoint ${checkpoint}; write the export somewhere else`);
}

/** Export a checkpoint directory; see ExportOptions. */
export function exportCheckpoint(opts: ExportOptions): ExportResult {
  const format = opts.format as ExportFormat;
  if (!EXPORT_FORMATS.includes(format))
    throw new UserError(`unsupported export format "${opts.format}"; choose one of: ${EXPORT_FORMATS.join(', ')}`);
  const dtype = checkExportDtype(opts.dtype ?? 'f32');
  if (opts.variant !== undefined && !ONNX_VARIANTS.includes(opts.variant as OnnxVariant))
    throw new UserError(`unknown ONNX variant "${opts.variant}"; choose one of: ${ONNX_VARIANTS.join(', ')}`);
  if (format === 'gguf' && opts.variant !== undefined && opts.variant !== 'logits')
    throw new UserError('--variant applies to --format onnx only');
  if (!existsSync(opts.checkpoint) || !statSync(opts.checkpoint).isDirectory()) {
    throw new UserError(`${opts.checkpoint}: not a directory; pass a checkpoint directory (config.json + model.safetensors)`);
  }
  refuseOutInsideCheckpoint(opts.out, opts.checkpoint);
  const c = readModelConfig(opts.checkpoint);
  // a reward model's ONNX graph is its score (the value head); a logits graph would drop the head without a word
  const variant = (opts.variant ?? (c.numLabels !== undefined ? 'score' : 'logits')) as OnnxVariant;
  if (c.numLabels !== undefined && (variant === 'logits' || variant === 'logits-kv'))
    throw new UserError(
      `${opts.checkpoint} is a reward model (a value head, num_labels ${c.numLabels}) with no language-model head: --variant ${variant} would drop its value head; use --variant score (the default for it) or seq-cls`,
    );
  // GGUF carries a causal LM: a reward model's value head (score.weight) would be dropped without a word
  if (format === 'gguf' && c.numLabels !== undefined)
    throw new UserError(
      `${opts.checkpoint} is a reward model (a value head, num_labels ${c.numLabels}); GGUF carries only the language model and would drop it: ` +
        'export it with --format onnx --variant score (or seq-cls)',
    );
  const weights = readWeights(opts.checkpoint, c);
  if ((variant === 'score' || variant === 'seq-cls') && !weights.has('score.weight'))
    throw new UserError(
      `${opts.checkpoint} is a causal language model with no value head ("score.weight"): --variant ${variant} exports a reward model's score; ` +
        'point --checkpoint at a reward model (`npx lwz-train train-rm` makes one), or export this model with --variant logits',
    );
  if (dtype === 'f16') refuseF16Overflow(c, weights, opts.checkpoint);
  let externalData: string | undefined;
  let notes: string[] = [];
  if (format === 'gguf') notes = exportGguf(opts.checkpoint, c, weights, dtype, opts.out);
  else externalData = exportOnnx(c, weights, dtype, variant, opts.out, opts.externalDataThreshold ?? ONNX_INLINE_LIMIT);
  const architecture = format === 'gguf' ? ggufArchitecture(c) : `onnx-${variant}`;
  return { out: opts.out, format, dtype, architecture, bytes: statSync(opts.out).size, notes, ...(externalData ? { externalData } : {}) };
}
