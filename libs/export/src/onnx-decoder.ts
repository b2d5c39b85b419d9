// The Qwen2/Llama decoder as an ONNX graph of standard opset-17 ops: embedding Gather, RMSNorm by hand
// (Mul/ReduceMean/Add/Sqrt/Div), rotate-half RoPE from position_ids (Cos/Sin), GQA causal attention with
// the padding mask, SwiGLU MLP, final norm and lm_head (Gemm with transB, so a tied head is stored once).
// Variants: `logits`; `logits-kv` (past_key_values.N.key/value in, present.N.key/value out); `score`
// (one scalar per sequence from a `score.weight` value head at the last attended token); `seq-cls` (the same
// value, behind the interface of a Hugging Face sequence-classification export: input_ids and attention_mask
// only, positions 0..T-1 built in the graph as transformers does without position_ids, `logits` (B, 1)). Not an optimiser:
// no fused attention, no quantisation. Shapes: B batch, T new tokens, P past, S = P + T, C, H, Hkv, D, V.
import { UserError } from '@lwz/core';
import type { ModelConfig } from '@lwz/model';
import { OnnxGraph } from './onnx-graph';
import { OnnxDataType } from './onnx-proto';
import { toF16Bytes, toF32Bytes, transpose2d } from './tensor-convert';
import type { ExportDtype, ExportWeights } from './weights-check';

export type OnnxVariant = 'logits' | 'logits-kv' | 'score' | 'seq-cls';
export const ONNX_VARIANTS: readonly OnnxVariant[] = ['logits', 'logits-kv', 'score', 'seq-cls'];

const F32_LOWEST = -3.4028234663852886e38;

class DecoderBuilder {
  readonly g = new OnnxGraph('lwz_decoder');
  constructor(
    readonly c: ModelConfig,
    readonly w: ExportWeights,
    readonly dtype: ExportDtype,
  ) {}

  private get(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new UserError(`ONNX export: missing tensor ${name}`);
    return v;
  }

  /** A weight as an initializer (f16 weights are widened by a Cast node); returns an f32 value. */
  weight(onnxName: string, values: Float32Array, dims: number[]): string {
    if (this.dtype === 'f32' || dims.length < 2) return this.g.initializer(onnxName, OnnxDataType.FLOAT, dims, toF32Bytes(values));
    const half = this.g.initializer(onnxName, OnnxDataType.FLOAT16, dims, toF16Bytes(values));
    return this.g.op('Cast', [half], { to: { int: OnnxDataType.FLOAT } });
  }

  /** y (B, T, out) = x (B, T, in) W^T + b, with HF W (out, in) stored transposed as (in, out) */
  linear(x: string, name: string, outDim: number, inDim: number, bias: boolean): string {
    const wt = this.weight(name + '.weight', transpose2d(this.get(name + '.weight'), outDim, inDim), [inDim, outDim]);
    const y = this.g.op('MatMul', [x, wt]);
    return bias ? this.g.op('Add', [y, this.weight(name + '.bias', this.get(name + '.bias'), [outDim])]) : y;
  }

  /** x (B, T, C) * rsqrt(mean(x^2) + eps) * gamma */
  rmsnorm(x: string, name: string): string {
    const g = this.g;
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    const denom = g.op('Sqrt', [g.op('Add', [ms, g.f32([this.c.rmsNormEps], [])])]);
    return g.op('Mul', [g.op('Div', [x, denom]), this.weight(name, this.get(name), [this.c.hiddenSize])]);
  }

  /** cos, sin (B, 1, T, D) for rotate-half RoPE at position_ids (B, T) */
  ropeTables(positionIds: string): [string, string] {
    const g = this.g;
    const D = this.c.headDim;
    const inv = Array.from({ length: D / 2 }, (_, i) => Math.pow(this.c.ropeTheta, (-2 * i) / D)); // (D/2,)
    const pos = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: { int: OnnxDataType.FLOAT } }), g.i64([2])]); // (B, T, 1)
    const freqs = g.op('Mul', [pos, g.f32(inv)]); // (B, T, D/2)
    const emb = g.op('Concat', [freqs, freqs], { axis: { int: -1 } }); // (B, T, D)
    const heads = g.i64([1]);
    return [g.op('Unsqueeze', [g.op('Cos', [emb]), heads]), g.op('Unsqueeze', [g.op('Sin', [emb]), heads])];
  }

  /** x (B, h, T, D) -> x*cos + rotate_half(x)*sin */
  rope(x: string, cos: string, sin: string): string {
    const g = this.g;
    const [x1, x2] = g.opN('Split', [x], { axis: { int: -1 } }, 2); // (B, h, T, D/2) each
    const rot = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: { int: -1 } });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rot, sin])]);
  }

  /** (B, T, h*D) -> (B, h, T, D) */
  heads(x: string, h: number): string {
    const g = this.g;
    return g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, h, this.c.headDim])])], { perm: { ints: [0, 2, 1, 3] } });
  }

  /** additive attention bias (B, 1, T, S): 0 where key j <= query position and attention_mask[b, j] = 1 */
  attentionBias(inputIds: string, attentionMask: string): string {
    const g = this.g;
    const scalarAt = (shapeOf: string, i: number): string =>
      g.op('Gather', [g.op('Shape', [shapeOf]), g.i64([i], [])], { axis: { int: 0 } });
    const S = scalarAt(attentionMask, 1);
    const T = scalarAt(inputIds, 1);
    const one = g.i64([1], []);
    const kIdx = g.op('Range', [g.i64([0], []), S, one]); // (S,)
    const qIdx = g.op('Range', [g.op('Sub', [S, T]), S, one]); // (T,) absolute positions of the new tokens
    const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [kIdx, g.i64([0])]), g.op('Unsqueeze', [qIdx, g.i64([1])])]); // (T, S)
    const pad = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: { int: OnnxDataType.BOOL } }), g.i64([1, 2])]); // (B, 1, 1, S)
    const allowed = g.op('And', [causal, pad]); // (B, 1, T, S)
    return g.op('Where', [allowed, g.f32([0], []), g.f32([F32_LOWEST], [])]);
  }

  /** one decoder layer; returns the new residual and this layer's (k, v) with past prepended (B, Hkv, S, D) */
  layer(l: number, x: string, cos: string, sin: string, bias: string, past: [string, string] | null): [string, string, string] {
    const g = this.g;
    const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: F } = this.c;
    const p = `model.layers.${l}`;
    const h = this.rmsnorm(x, `${p}.input_layernorm.weight`);
    const b = this.c.attentionBias;
    const q = this.rope(this.heads(this.linear(h, `${p}.self_attn.q_proj`, H * D, C, b), H), cos, sin); // (B, H, T, D)
    let k = this.rope(this.heads(this.linear(h, `${p}.self_attn.k_proj`, Hkv * D, C, b), Hkv), cos, sin); // (B, Hkv, T, D)
    let v = this.heads(this.linear(h, `${p}.self_attn.v_proj`, Hkv * D, C, b), Hkv);
    if (past) {
      k = g.op('Concat', [past[0], k], { axis: { int: 2 } }); // (B, Hkv, S, D)
      v = g.op('Concat', [past[1], v], { axis: { int: 2 } });
    }
    const group = H / Hkv;
    const repeat = (t: string): string =>
      group === 1
        ? t
        : g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [t, g.i64([2])]), g.i64([1, 1, group, 1, 1])]), g.i64([0, H, -1, D])]); // (B, H, S, D)
    const kT = g.op('Transpose', [repeat(k)], { perm: { ints: [0, 1, 3, 2] } }); // (B, H, D, S)
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), g.f32([1 / Math.sqrt(D)], [])]), bias]); // (B, H, T, S)
    const att = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), repeat(v)]); // (B, H, T, D)
    const merged = g.op('Reshape', [g.op('Transpose', [att], { perm: { ints: [0, 2, 1, 3] } }), g.i64([0, 0, H * D])]);
    const x2 = g.op('Add', [x, this.linear(merged, `${p}.self_attn.o_proj`, C, H * D, false)]);
    const h2 = this.rmsnorm(x2, `${p}.post_attention_layernorm.weight`);
    const gate = this.linear(h2, `${p}.mlp.gate_proj`, F, C, false); // (B, T, F)
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), this.linear(h2, `${p}.mlp.up_proj`, F, C, false)]);
    return [g.op('Add', [x2, this.linear(act, `${p}.mlp.down_proj`, C, F, false)]), k, v];
  }

  /** logits (B, T, V) = xf (B, T, C) head^T via Gemm on (B*T, C) */
  lmHead(xf: string, inputIds: string): string {
    const g = this.g;
    const { hiddenSize: C, vocabSize: V } = this.c;
    const name = this.c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    const head = this.c.tieWordEmbeddings ? this.embed : this.weight(name, this.get(name), [V, C]);
    const flat = g.op('Gemm', [g.op('Reshape', [xf, g.i64([-1, C])]), head], { transB: { int: 1 } }); // (B*T, V)
    const shape = g.op('Concat', [g.op('Shape', [inputIds]), g.i64([V])], { axis: { int: 0 } });
    return g.op('Reshape', [flat, shape]);
  }

  embed = '';

  build(variant: OnnxVariant): OnnxGraph {
    const g = this.g;
    const { vocabSize: V, hiddenSize: C, numKvHeads: Hkv, headDim: D } = this.c;
    const ids = g.input('input_ids', OnnxDataType.INT64, ['batch', 'seq']);
    const mask = g.input('attention_mask', OnnxDataType.INT64, ['batch', variant === 'logits-kv' ? 'total' : 'seq']);
    const pos = variant === 'seq-cls' ? this.defaultPositions(ids) : g.input('position_ids', OnnxDataType.INT64, ['batch', 'seq']);
    const pastDims = ['batch', Hkv, 'past', D];
    const pasts =
      variant !== 'logits-kv'
        ? []
        : Array.from({ length: this.c.numLayers }, (_, l): [string, string] => [
            g.input(`past_key_values.${l}.key`, OnnxDataType.FLOAT, pastDims),
            g.input(`past_key_values.${l}.value`, OnnxDataType.FLOAT, pastDims),
          ]);
    this.embed = this.weight('model.embed_tokens.weight', this.get('model.embed_tokens.weight'), [V, C]);
    let x = g.op('Gather', [this.embed, ids], { axis: { int: 0 } }); // (B, T, C)
    const [cos, sin] = this.ropeTables(pos);
    const bias = this.attentionBias(ids, mask);
    for (let l = 0; l < this.c.numLayers; l++) {
      const [nx, k, v] = this.layer(l, x, cos, sin, bias, pasts[l] ?? null);
      x = nx;
      if (variant === 'logits-kv') {
        g.output(k, `present.${l}.key`, OnnxDataType.FLOAT, ['batch', Hkv, 'total', D]);
        g.output(v, `present.${l}.value`, OnnxDataType.FLOAT, ['batch', Hkv, 'total', D]);
      }
    }
    const xf = this.rmsnorm(x, 'model.norm.weight');
    if (variant === 'score') g.output(this.scoreHead(xf, mask), 'scores', OnnxDataType.FLOAT, ['batch']);
    else if (variant === 'seq-cls')
      g.output(g.op('Unsqueeze', [this.scoreHead(xf, mask), g.i64([1])]), 'logits', OnnxDataType.FLOAT, ['batch', 1]);
    else g.output(this.lmHead(xf, ids), 'logits', OnnxDataType.FLOAT, ['batch', 'seq', V]);
    return g;
  }

  /** position ids (B, T) = 0..T-1 on every row, from the shape of input_ids (B, T) (right padding) */
  defaultPositions(ids: string): string {
    const g = this.g;
    const T = g.op('Gather', [g.op('Shape', [ids]), g.i64([1], [])], { axis: { int: 0 } });
    const range = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), T, g.i64([1], [])]), g.i64([0])]); // (1, T)
    return g.op('Expand', [range, g.op('Shape', [ids])]); // (B, T)
  }

  /** scores (B,) = score.weight . xf[b, last attended position] (+ score.bias) */
  scoreHead(xf: string, mask: string): string {
    const g = this.g;
    const C = this.c.hiddenSize;
    const sw = this.w.get('score.weight');
    if (!sw || sw.length !== C)
      throw new UserError(`ONNX score export: the checkpoint needs a value head "score.weight" of shape [1, ${C}]`);
    const S = g.op('Gather', [g.op('Shape', [mask]), g.i64([1], [])], { axis: { int: 0 } });
    const ranks = g.op('Range', [g.i64([1], []), g.op('Add', [S, g.i64([1], [])]), g.i64([1], [])]); // (S,) 1..S
    const last = g.op('ArgMax', [g.op('Mul', [mask, ranks])], { axis: { int: 1 }, keepdims: { int: 1 } }); // (B, 1)
    const h = g.op('GatherND', [xf, last], { batch_dims: { int: 1 } }); // (B, C)
    let s = g.op('MatMul', [h, this.weight('score.weight', sw, [C, 1])]); // (B, 1)
    const sb = this.w.get('score.bias');
    if (sb) s = g.op('Add', [s, this.weight('score.bias', sb, [1])]);
    return g.op('Reshape', [s, g.i64([-1])]);
  }
}

/** The ONNX graph of a checked checkpoint (see weights-check.ts) for one variant. */
export function buildDecoderOnnx(c: ModelConfig, weights: ExportWeights, variant: OnnxVariant, dtype: ExportDtype): OnnxGraph {
  return new DecoderBuilder(c, weights, dtype).build(variant);
}
