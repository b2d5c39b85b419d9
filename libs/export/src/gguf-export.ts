// Maps a Qwen2/Llama checkpoint onto the GGUF layout llama.cpp loads: architecture metadata under
// "<arch>.*", the tokenizer under "tokenizer.ggml.*", and tensors under llama.cpp's names with ggml dims
// (innermost first). qwen2 (q/k/v biases) is written as-is; a llama-style model (and a qwen2 one whose head_dim
// is not hidden / heads) is written as arch "llama" with q/k rows permuted from rotate-half to interleaved RoPE
// order (as llama.cpp's converter does). Norms and biases stay f32 under --dtype f16, like the reference converter. No quantisation.
import type { ModelConfig } from '@lwz/model';
import { gguf, GgmlType, type GgufTensor, type GgufValue } from './gguf-writer';
import { permuteRotaryRows, toF16Bytes, toF32Bytes } from './tensor-convert';
import type { GgufVocab } from './tokenizer-vocab';
import type { ExportDtype, ExportWeights } from './weights-check';

export interface GgufSpecialIds {
  bos?: number;
  eos?: number;
  pad?: number;
}

export interface GgufExportOptions {
  dtype: ExportDtype;
  name?: string;
  special?: GgufSpecialIds;
  /** tokenizer.ggml.pre: llama.cpp's pre-tokenizer regex set; our tokenizers use Qwen2's */
  preTokenizer?: string;
  /** the BOS id the tokenizer's post-processor adds before every sequence (tokenizer.ggml.add_bos_token) */
  addBos?: number;
  /** the EOS id the post-processor appends after every sequence (tokenizer.ggml.add_eos_token); the caller checks it
   * is the model's eos, which llama.cpp appends */
  addEos?: number;
  /** the checkpoint's chat template (tokenizer.chat_template): llama.cpp and its bindings format chats with it */
  chatTemplate?: string;
}

/**
 * llama.cpp's qwen2 loader assumes heads x head_dim = hidden size; a qwen2 model with another head_dim is written as
 * arch "llama" (which reads key_length, and takes q/k/v biases), its q/k rows and biases permuted as for llama.
 */
export function ggufArchitecture(c: ModelConfig): 'qwen2' | 'llama' {
  return c.modelType === 'qwen2' && c.numHeads * c.headDim === c.hiddenSize ? 'qwen2' : 'llama';
}

function modelMetadata(c: ModelConfig, opts: GgufExportOptions): Map<string, GgufValue> {
  const a = ggufArchitecture(c);
  const m = new Map<string, GgufValue>();
  m.set('general.architecture', gguf.str(a));
  m.set('general.name', gguf.str(opts.name ?? 'lwz-model'));
  m.set('general.alignment', gguf.u32(32));
  m.set('general.file_type', gguf.u32(opts.dtype === 'f16' ? 1 : 0)); // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
  m.set(`${a}.vocab_size`, gguf.u32(c.vocabSize));
  m.set(`${a}.context_length`, gguf.u32(c.maxPositionEmbeddings));
  m.set(`${a}.embedding_length`, gguf.u32(c.hiddenSize));
  m.set(`${a}.feed_forward_length`, gguf.u32(c.intermediateSize));
  m.set(`${a}.block_count`, gguf.u32(c.numLayers));
  m.set(`${a}.attention.head_count`, gguf.u32(c.numHeads));
  m.set(`${a}.attention.head_count_kv`, gguf.u32(c.numKvHeads));
  m.set(`${a}.attention.key_length`, gguf.u32(c.headDim));
  m.set(`${a}.attention.value_length`, gguf.u32(c.headDim));
  m.set(`${a}.rope.dimension_count`, gguf.u32(c.headDim));
  m.set(`${a}.rope.freq_base`, gguf.f32(c.ropeTheta));
  m.set(`${a}.attention.layer_norm_rms_epsilon`, gguf.f32(c.rmsNormEps));
  return m;
}

function tokenizerMetadata(m: Map<string, GgufValue>, vocab: GgufVocab, opts: GgufExportOptions): void {
  m.set('tokenizer.ggml.model', gguf.str('gpt2'));
  m.set('tokenizer.ggml.pre', gguf.str(opts.preTokenizer ?? 'qwen2'));
  m.set('tokenizer.ggml.tokens', gguf.strings(vocab.tokens));
  m.set('tokenizer.ggml.token_type', gguf.i32s(vocab.tokenTypes));
  m.set('tokenizer.ggml.merges', gguf.strings(vocab.merges));
  const s = opts.special ?? {};
  const bos = opts.addBos ?? s.bos;
  if (bos !== undefined) m.set('tokenizer.ggml.bos_token_id', gguf.u32(bos));
  const eos = s.eos ?? opts.addEos;
  if (eos !== undefined) m.set('tokenizer.ggml.eos_token_id', gguf.u32(eos));
  if (s.pad !== undefined) m.set('tokenizer.ggml.padding_token_id', gguf.u32(s.pad));
  m.set('tokenizer.ggml.add_bos_token', gguf.bool(opts.addBos !== undefined));
  m.set('tokenizer.ggml.add_eos_token', gguf.bool(opts.addEos !== undefined));
  if (opts.chatTemplate !== undefined) m.set('tokenizer.chat_template', gguf.str(opts.chatTemplate));
}

/** (HF name, GGUF name, HF shape) for every tensor, in llama.cpp's usual order. */
function tensorNames(c: ModelConfig): [string, string, number[]][] {
  const C = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const out: [string, string, number[]][] = [['model.embed_tokens.weight', 'token_embd.weight', [c.vocabSize, C]]];
  for (let l = 0; l < c.numLayers; l++) {
    const hf = `model.layers.${l}`;
    const g = `blk.${l}`;
    out.push([`${hf}.input_layernorm.weight`, `${g}.attn_norm.weight`, [C]]);
    for (const [p, dim] of [
      ['q', qd],
      ['k', kvd],
      ['v', kvd],
    ] as const) {
      out.push([`${hf}.self_attn.${p}_proj.weight`, `${g}.attn_${p}.weight`, [dim, C]]);
      if (c.attentionBias) out.push([`${hf}.self_attn.${p}_proj.bias`, `${g}.attn_${p}.bias`, [dim]]);
    }
    out.push([`${hf}.self_attn.o_proj.weight`, `${g}.attn_output.weight`, [C, qd]]);
    out.push([`${hf}.post_attention_layernorm.weight`, `${g}.ffn_norm.weight`, [C]]);
    out.push([`${hf}.mlp.gate_proj.weight`, `${g}.ffn_gate.weight`, [F, C]]);
    out.push([`${hf}.mlp.up_proj.weight`, `${g}.ffn_up.weight`, [F, C]]);
    out.push([`${hf}.mlp.down_proj.weight`, `${g}.ffn_down.weight`, [C, F]]);
  }
  out.push(['model.norm.weight', 'output_norm.weight', [C]]);
  if (!c.tieWordEmbeddings) out.push(['lm_head.weight', 'output.weight', [c.vocabSize, C]]);
  return out;
}

function llamaPermute(c: ModelConfig, hfName: string, w: Float32Array, shape: number[]): Float32Array {
  const inner = shape.length === 2 ? shape[1] : 1;
  if (/self_attn\.q_proj\./.test(hfName)) return permuteRotaryRows(w, c.numHeads, inner);
  if (/self_attn\.k_proj\./.test(hfName)) return permuteRotaryRows(w, c.numKvHeads, inner);
  return w;
}

/** Metadata and tensors of the GGUF file for a checked checkpoint (see weights-check.ts). */
export function buildGguf(
  c: ModelConfig,
  weights: ExportWeights,
  vocab: GgufVocab,
  opts: GgufExportOptions,
): { metadata: Map<string, GgufValue>; tensors: GgufTensor[] } {
  const metadata = modelMetadata(c, opts);
  tokenizerMetadata(metadata, vocab, opts);
  const arch = ggufArchitecture(c);
  const tensors = tensorNames(c).map(([hf, name, shape]): GgufTensor => {
    let w = weights.get(hf);
    if (!w) throw new Error(`buildGguf: missing ${hf} (call checkExportWeights first)`);
    if (arch === 'llama') w = llamaPermute(c, hf, w, shape);
    const half = opts.dtype === 'f16' && shape.length === 2;
    return {
      name,
      dims: [...shape].reverse(), // ggml ne[0] is the row length
      type: half ? GgmlType.F16 : GgmlType.F32,
      data: half ? toF16Bytes(w) : toF32Bytes(w),
    };
  });
  return { metadata, tensors };
}
