// Model configuration: the Qwen2 decoder's shape, read from and written to a Hugging Face `config.json`.
// Accepts `model_type` qwen2 (q/k/v biases) and llama-style configs (no biases), as causal LMs or as
// sequence classifiers with a one-logit value head (`architectures: ["Qwen2ForSequenceClassification"]`,
// `num_labels: 1`: reward models). A missing or unsupported
// field is a UserError naming the field and the file. Not a general transformers config: features we do not
// implement (rope scaling, sliding windows, MLP biases, llama's o_proj bias, other activations) are refused,
// never ignored.
import { UserError, z } from '@lwz/core';

export interface ModelConfig {
  modelType: 'qwen2' | 'llama';
  vocabSize: number; // V
  hiddenSize: number; // C
  intermediateSize: number; // F
  numLayers: number; // L
  numHeads: number; // H
  numKvHeads: number; // Hkv (H % Hkv == 0)
  headDim: number; // D
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  /** q/k/v projections carry biases (true for qwen2, `attention_bias` for llama) */
  attentionBias: boolean;
  initializerRange: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  /**
   * generation_config.json's `eos_token_id`, when that file gives one: the ids generation stops on (transformers
   * and vLLM read them from there; Qwen2.5-Instruct lists <|im_end|> and <|endoftext|> where config.json has one).
   * Read by readModelConfig, written back by saveModel; not a config.json field.
   */
  generationEosTokenId?: number | number[];
  /**
   * Set for a sequence classifier (`*ForSequenceClassification`): a `score.weight` (numLabels, C) head reads the
   * final-norm hidden state at each sequence's last token, and there is no lm_head. Only 1 (a reward model's
   * scalar) is supported. Absent for a causal LM.
   */
  numLabels?: number;
}

/**
 * The ModelConfig fields a trainer config may set over a preset (`model.overrides`): the shape and its numeric
 * hyperparameters, each checked here (a typo or a 0 would otherwise train some other model); the combination is
 * checked by checkModelShape.
 */
export const modelOverridesSchema = z
  .object({
    hiddenSize: z.number().int().positive(),
    intermediateSize: z.number().int().positive(),
    numLayers: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    numKvHeads: z.number().int().positive(),
    headDim: z.number().int().positive(),
    maxPositionEmbeddings: z.number().int().positive(),
    rmsNormEps: z.number().positive(),
    ropeTheta: z.number().positive(),
    initializerRange: z.number().positive(),
  })
  .partial()
  .strict();

/** A config built in code (a preset with overrides) checked as config.json would be; `source` names its origin. */
export function checkModelShape(c: ModelConfig, source: string): ModelConfig {
  parseHfConfig(toHfConfig(c), source);
  return c;
}

type Raw = Record<string, unknown>;

function fail(source: string, field: string, what: string): never {
  throw new UserError(`${source}: field "${field}" ${what}`);
}

function posInt(raw: Raw, source: string, field: string, fallback?: number): number {
  const v = raw[field] ?? fallback;
  if (v === undefined || v === null) fail(source, field, 'is missing; add it (a positive integer)');
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(source, field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function posNum(raw: Raw, source: string, field: string, fallback?: number): number {
  const v = raw[field] ?? fallback;
  if (v === undefined || v === null) fail(source, field, 'is missing; add it (a positive number)');
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(source, field, `must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Raw, source: string, field: string, fallback: boolean): boolean {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'boolean') fail(source, field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The RoPE base. transformers 5 writes `rope_parameters: {rope_type, rope_theta, ...}` where older configs have
 * `rope_theta` and `rope_scaling`; both are read. Only plain RoPE is implemented: a scaled rope_type (llama3,
 * yarn, dynamic, linear, ...) changes every position's angles, so such a checkpoint is refused, never run as if
 * unscaled.
 */
function ropeTheta(raw: Raw, source: string): number {
  const params = raw.rope_parameters;
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    fail(source, 'rope_parameters', `must be an object, got ${JSON.stringify(params)}`);
  }
  for (const field of ['rope_scaling', 'rope_parameters']) {
    const v = raw[field] as Raw | null | undefined;
    if (v === undefined || v === null) continue;
    const type = typeof v === 'object' ? (v.rope_type ?? v.type ?? 'default') : v;
    if (type !== 'default') {
      fail(
        source,
        field,
        `has rope_type ${JSON.stringify(type)}, which is not supported (only plain RoPE, rope_type "default"); ` +
          'this checkpoint cannot be run here: removing the field would change the positions the model was trained with',
      );
    }
  }
  const nested = (params as Raw | null | undefined)?.rope_theta;
  if (raw.rope_theta === undefined && nested !== undefined)
    return posNum({ 'rope_parameters.rope_theta': nested }, source, 'rope_parameters.rope_theta');
  return posNum(raw, source, 'rope_theta');
}

function checkUnsupported(raw: Raw, source: string, modelType: string): void {
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') fail(source, 'hidden_act', `must be "silu" (SwiGLU MLP), got ${JSON.stringify(act)}`);
  if (raw.use_sliding_window === true) fail(source, 'use_sliding_window', 'is not supported; set it to false');
  if (raw.mlp_bias === true) fail(source, 'mlp_bias', 'is not supported (MLP projections have no bias); set it to false');
  if (modelType === 'qwen2' && raw.attention_bias === false) {
    fail(source, 'attention_bias', 'must not be false for model_type qwen2 (use model_type llama for bias-free q/k/v)');
  }
  // transformers' llama puts the bias on o_proj too; only qwen2's q/k/v biases are implemented
  if (modelType === 'llama' && raw.attention_bias === true) {
    fail(
      source,
      'attention_bias',
      'is not supported for model_type llama (it adds biases to q/k/v and o_proj); set it to false, or use model_type qwen2 for q/k/v biases only',
    );
  }
}

/**
 * The value-head size of a sequence-classifier config, or undefined for a causal LM. transformers writes the
 * labels as `id2label` (and reads `num_labels` when there is none; its default is 2); we support 1.
 */
function classifierLabels(r: Raw, source: string): number | undefined {
  const arch = r.architectures;
  if (arch !== undefined && arch !== null && !(Array.isArray(arch) && arch.every((a) => typeof a === 'string'))) {
    fail(source, 'architectures', `must be a list of class names, got ${JSON.stringify(arch)}`);
  }
  const names = (arch ?? []) as string[];
  if (!names.some((a) => a.endsWith('ForSequenceClassification'))) return undefined;
  const id2label = r.id2label;
  const n = id2label && typeof id2label === 'object' && !Array.isArray(id2label) ? Object.keys(id2label).length : (r.num_labels ?? 2);
  if (n !== 1) {
    fail(source, 'num_labels', `must be 1 for a sequence classifier (a reward model's scalar score), got ${JSON.stringify(n)}`);
  }
  return 1;
}

/** Parse a Hugging Face config.json object; `source` names the file in error messages. */
export function parseHfConfig(raw: unknown, source = 'config.json'): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: must be a JSON object`);
  const r = raw as Raw;
  const modelType = r.model_type;
  if (modelType === undefined) fail(source, 'model_type', 'is missing; set it to "qwen2" (or "llama")');
  if (modelType !== 'qwen2' && modelType !== 'llama') {
    fail(source, 'model_type', `must be "qwen2" or "llama", got ${JSON.stringify(modelType)}`);
  }
  checkUnsupported(r, source, modelType);
  const hiddenSize = posInt(r, source, 'hidden_size');
  const numHeads = posInt(r, source, 'num_attention_heads');
  const numKvHeads = posInt(r, source, 'num_key_value_heads');
  if (numHeads % numKvHeads !== 0) {
    fail(source, 'num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  }
  if (r.head_dim === undefined && hiddenSize % numHeads !== 0) {
    fail(source, 'head_dim', `is missing and hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  }
  const headDim = posInt(r, source, 'head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) fail(source, 'head_dim', `must be even for rotary embeddings, got ${headDim}`);
  const eos = r.eos_token_id;
  if (eos !== undefined && eos !== null && !Number.isInteger(eos) && !(Array.isArray(eos) && eos.every(Number.isInteger))) {
    fail(source, 'eos_token_id', `must be an integer or a list of integers, got ${JSON.stringify(eos)}`);
  }
  const bos = r.bos_token_id;
  if (bos !== undefined && bos !== null && !Number.isInteger(bos))
    fail(source, 'bos_token_id', `must be an integer, got ${JSON.stringify(bos)}`);
  const numLabels = classifierLabels(r, source);
  return {
    modelType,
    vocabSize: posInt(r, source, 'vocab_size'),
    hiddenSize,
    intermediateSize: posInt(r, source, 'intermediate_size'),
    numLayers: posInt(r, source, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: posNum(r, source, 'rms_norm_eps'),
    ropeTheta: ropeTheta(r, source),
    // transformers' PretrainedConfig default is false when the field is absent
    tieWordEmbeddings: bool(r, source, 'tie_word_embeddings', false),
    maxPositionEmbeddings: posInt(r, source, 'max_position_embeddings'),
    attentionBias: modelType === 'qwen2' ? true : bool(r, source, 'attention_bias', false),
    initializerRange: posNum(r, source, 'initializer_range', 0.02),
    ...(bos !== undefined && bos !== null ? { bosTokenId: bos as number } : {}),
    ...(eos !== undefined && eos !== null ? { eosTokenId: eos as number | number[] } : {}),
    ...(numLabels !== undefined ? { numLabels } : {}),
  };
}

/** The Hugging Face config.json object for `c` (what transformers' Qwen2/Llama classes read). */
export function toHfConfig(c: ModelConfig): Record<string, unknown> {
  // a classifier: transformers reads the label count from id2label; num_labels is there for other readers
  const head = c.numLabels === undefined ? 'ForCausalLM' : 'ForSequenceClassification';
  const labels =
    c.numLabels === undefined
      ? {}
      : {
          num_labels: c.numLabels,
          id2label: Object.fromEntries(Array.from({ length: c.numLabels }, (_, i) => [String(i), `LABEL_${i}`])),
          label2id: Object.fromEntries(Array.from({ length: c.numLabels }, (_, i) => [`LABEL_${i}`, i])),
        };
  const common = {
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    max_position_embeddings: c.maxPositionEmbeddings,
    initializer_range: c.initializerRange,
    attention_dropout: 0,
    torch_dtype: 'float32',
    use_cache: true,
    ...labels,
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
  };
  if (c.modelType === 'qwen2') {
    return {
      architectures: [`Qwen2${head}`],
      model_type: 'qwen2',
      ...common,
      use_sliding_window: false,
      sliding_window: c.maxPositionEmbeddings,
      max_window_layers: c.numLayers,
    };
  }
  return { architectures: [`Llama${head}`], model_type: 'llama', ...common, attention_bias: c.attentionBias, mlp_bias: false };
}

/** The ids generation ends on: config.json's eos_token_id and generation_config.json's, each an id or a list. */
export function endOfSequenceIds(c: ModelConfig): number[] {
  const list = (v: number | number[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return [...new Set([...list(c.eosTokenId), ...list(c.generationEosTokenId)])];
}

/** generation_config.json's `eos_token_id` (an id or a list), or undefined when the file gives none. */
export function parseGenerationEos(raw: unknown, source = 'generation_config.json'): number | number[] | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: must be a JSON object`);
  const eos = (raw as Raw).eos_token_id;
  if (eos === undefined || eos === null) return undefined;
  if (!Number.isInteger(eos) && !(Array.isArray(eos) && eos.length > 0 && eos.every(Number.isInteger))) {
    fail(source, 'eos_token_id', `must be an integer or a non-empty list of integers, got ${JSON.stringify(eos)}`);
  }
  return eos as number | number[];
}

/** Number of parameters (counting a tied embedding once; a classifier has its score head and no lm_head). */
export function parameterCount(c: ModelConfig): number {
  const C = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const attn = C * qd * 2 + C * kvd * 2 + (c.attentionBias ? qd + 2 * kvd : 0);
  const layer = attn + 3 * C * c.intermediateSize + 2 * C;
  const head = c.numLabels !== undefined ? c.numLabels * C : c.tieWordEmbeddings ? 0 : c.vocabSize * C;
  return c.vocabSize * C + head + c.numLayers * layer + C;
}
