// An independent float64 Qwen2 forward pass for tests: plain loops over Float64Arrays, written from the
// architecture's definition (RMSNorm, rotate-half RoPE, GQA causal attention with q/k/v biases, SwiGLU MLP,
// final norm, tied or untied lm_head, or a classifier's score head at the last token). It deliberately shares no code with the model and never touches
// @lwz/kernels, so agreement between the two is evidence. Slow; tiny shapes only; one unpadded sequence.
import type { ModelConfig } from '../config';

export type RefWeights = ReadonlyMap<string, ArrayLike<number>>;

function w(weights: RefWeights, name: string): ArrayLike<number> {
  const v = weights.get(name);
  if (!v) throw new Error(`reference: missing weight ${name}`);
  return v;
}

/** y (T, out) = x (T, in) W^T (+ b), W (out, in) */
function linear(x: Float64Array, T: number, inDim: number, W: ArrayLike<number>, outDim: number, b?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(T * outDim);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i] * W[o * inDim + i];
      y[t * outDim + o] = s;
    }
  }
  return y;
}

function rmsnorm(x: Float64Array, T: number, C: number, g: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[t * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) y[t * C + c] = g[c] * x[t * C + c] * r;
  }
  return y;
}

/** rotate-half RoPE in place on x (T, nHeads, D), position of row t = t */
function rope(x: Float64Array, T: number, nHeads: number, D: number, theta: number): void {
  const half = D / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * D;
      for (let i = 0; i < half; i++) {
        const ang = t * Math.pow(theta, (-2 * i) / D);
        const c = Math.cos(ang);
        const s = Math.sin(ang);
        const a = x[base + i];
        const b = x[base + i + half];
        x[base + i] = a * c - b * s;
        x[base + i + half] = b * c + a * s;
      }
    }
  }
}

function attention(q: Float64Array, k: Float64Array, v: Float64Array, T: number, cfg: ModelConfig): Float64Array {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = cfg;
  const group = H / Hkv;
  const out = new Float64Array(T * H * D);
  const scores = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < T; i++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[(i * H + h) * D + d] * k[(j * Hkv + kh) * D + d];
        scores[j] = s / Math.sqrt(D);
        max = Math.max(max, scores[j]);
      }
      let z = 0;
      for (let j = 0; j <= i; j++) z += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j <= i; j++) {
        for (let d = 0; d < D; d++) out[(i * H + h) * D + d] += (scores[j] / z) * v[(j * Hkv + kh) * D + d];
      }
    }
  }
  return out;
}

/** Final-norm hidden states (T, C) of one sequence, in float64. */
export function referenceHidden(cfg: ModelConfig, weights: RefWeights, ids: readonly number[]): Float64Array {
  const T = ids.length;
  const { hiddenSize: C, intermediateSize: F, headDim: D, numHeads: H, numKvHeads: Hkv } = cfg;
  const emb = w(weights, 'model.embed_tokens.weight');
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) x[t * C + c] = emb[ids[t] * C + c];
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = (n: string): ArrayLike<number> => w(weights, `model.layers.${l}.${n}`);
    const b = (n: string): ArrayLike<number> | undefined => (cfg.attentionBias ? p(`self_attn.${n}_proj.bias`) : undefined);
    const h = rmsnorm(x, T, C, p('input_layernorm.weight'), cfg.rmsNormEps);
    const q = linear(h, T, C, p('self_attn.q_proj.weight'), H * D, b('q'));
    const k = linear(h, T, C, p('self_attn.k_proj.weight'), Hkv * D, b('k'));
    const v = linear(h, T, C, p('self_attn.v_proj.weight'), Hkv * D, b('v'));
    rope(q, T, H, D, cfg.ropeTheta);
    rope(k, T, Hkv, D, cfg.ropeTheta);
    const o = linear(attention(q, k, v, T, cfg), T, H * D, p('self_attn.o_proj.weight'), C);
    const x2 = x.map((xv, i) => xv + o[i]);
    const h2 = rmsnorm(x2, T, C, p('post_attention_layernorm.weight'), cfg.rmsNormEps);
    const g = linear(h2, T, C, p('mlp.gate_proj.weight'), F);
    const u = linear(h2, T, C, p('mlp.up_proj.weight'), F);
    const a = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]);
    const d = linear(a, T, F, p('mlp.down_proj.weight'), C);
    x = x2.map((xv, i) => xv + d[i]);
  }
  return rmsnorm(x, T, C, w(weights, 'model.norm.weight'), cfg.rmsNormEps);
}

/** Full logits (T, V) of one sequence, in float64. */
export function referenceLogits(cfg: ModelConfig, weights: RefWeights, ids: readonly number[]): Float64Array {
  const xf = referenceHidden(cfg, weights, ids);
  const head = cfg.tieWordEmbeddings ? w(weights, 'model.embed_tokens.weight') : w(weights, 'lm_head.weight');
  return linear(xf, ids.length, cfg.hiddenSize, head, cfg.vocabSize);
}

/** A sequence classifier's score of one sequence: score.weight (1, C) . xf[T-1], in float64. */
export function referenceScore(cfg: ModelConfig, weights: RefWeights, ids: readonly number[]): number {
  const C = cfg.hiddenSize;
  const xf = referenceHidden(cfg, weights, ids);
  const head = w(weights, 'score.weight');
  let s = 0;
  for (let c = 0; c < C; c++) s += head[c] * xf[(ids.length - 1) * C + c];
  return s;
}

/** log p(ids[t] | ids[<t]) for t = 1..T-1 (T-1 values), in float64. */
export function referenceLogprobs(cfg: ModelConfig, weights: RefWeights, ids: readonly number[]): Float64Array {
  const logits = referenceLogits(cfg, weights, ids);
  const V = cfg.vocabSize;
  const out = new Float64Array(ids.length - 1);
  for (let t = 0; t + 1 < ids.length; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - max);
    out[t] = logits[t * V + ids[t + 1]] - max - Math.log(z);
  }
  return out;
}
