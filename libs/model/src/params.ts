// The parameter store: every weight of the decoder as a flat f32 tensor under its Hugging Face name, with a
// gradient buffer of the same shape, in checkpoint order. Optimizers iterate `store.params` as
// (name, value, grad) triples; the forward/backward code reaches weights through `layerParams`.
// Each layer's q, k, v weights (and biases) and its gate, up weights are stored back to back in one buffer
// (each parameter a view of it), so a one-token decode step can run each group as one matrix (`joined`).
// Not an optimizer and not autograd: grads are written by the model's hand-written backward.
import { Tensor, copy, packMatmulB, zeros, type Device, type PackedMatrix } from '@lwz/kernels';
import type { ModelConfig } from './config';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** how initModel fills it */
  init: 'normal' | 'ones' | 'zeros';
}

export interface Param {
  name: string;
  shape: readonly number[];
  value: Tensor;
  /** allocated by the first backward() (or `ensureGrads`); null while the model is used for inference only */
  grad: Tensor | null;
  /** false for frozen weights (e.g. the base model under LoRA): backward skips their gradients */
  trainable: boolean;
  /** `value` (a (out, in) weight) packed for the forward's x W^T while ParamStore.packForDecode holds it */
  packed?: PackedMatrix | null;
}

/** The packing of a weight for matmul(x, p.value, { transB: true }), if it still packs p.value. */
export function packedOf(p: Param): PackedMatrix | undefined {
  return p.packed && p.packed.source === p.value ? p.packed : undefined;
}

/** Hugging Face tensor names and shapes (Linear weights are (out_features, in_features)). */
export function parameterSpecs(c: ModelConfig): ParamSpec[] {
  const C = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, C], init: 'normal' }];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [C], init: 'ones' });
    for (const [proj, out] of [
      ['q', qd],
      ['k', kvd],
      ['v', kvd],
    ] as const) {
      specs.push({ name: `${p}.self_attn.${proj}_proj.weight`, shape: [out, C], init: 'normal' });
      if (c.attentionBias) specs.push({ name: `${p}.self_attn.${proj}_proj.bias`, shape: [out], init: 'zeros' });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [C, qd], init: 'normal' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [C], init: 'ones' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, C], init: 'normal' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, C], init: 'normal' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [C, c.intermediateSize], init: 'normal' });
  }
  specs.push({ name: 'model.norm.weight', shape: [C], init: 'ones' });
  // a sequence classifier (reward model) has a value head instead of the language-model head
  if (c.numLabels !== undefined) specs.push({ name: 'score.weight', shape: [c.numLabels, C], init: 'normal' });
  else if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, C], init: 'normal' });
  return specs;
}

export interface LayerParams {
  inNorm: Param; // (C,)
  q: Param; // (H*D, C)
  k: Param; // (Hkv*D, C)
  v: Param; // (Hkv*D, C)
  qBias: Param | null; // (H*D,)
  kBias: Param | null; // (Hkv*D,)
  vBias: Param | null; // (Hkv*D,)
  o: Param; // (C, H*D)
  postNorm: Param; // (C,)
  gate: Param; // (F, C)
  up: Param; // (F, C)
  down: Param; // (C, F)
}

/** A layer's projections as single tensors (see ParamStore.joined); null where not back to back. */
export interface JoinedWeights {
  qkv: Tensor | null; // (H*D + 2*Hkv*D, C): rows of q, then k, then v
  qkvBias: Tensor | null; // (H*D + 2*Hkv*D,)
  gateUp: Tensor | null; // (2F, C): rows of gate, then up
}

/** Move the params' values into one new buffer, back to back in order (each value becomes a view of it). */
function packBackToBack(params: Param[], device: Device): void {
  const values = params.map((p) => p.value);
  const total = values.reduce((n, t) => n + t.size, 0);
  const probe = Tensor.joined(values, [total]);
  if (probe) return probe.dispose(); // already back to back (a model built from another store's tensors)
  const buffer = zeros([total], { device });
  let at = 0;
  for (const p of params) {
    const view = buffer.view(at, p.value.shape);
    copy(p.value, view);
    p.value.dispose();
    p.value = view;
    at += view.size;
  }
  buffer.dispose(); // the views keep the storage alive
}

export class ParamStore {
  readonly params: Param[];
  private readonly byName = new Map<string, Param>();
  private readonly joinedCache = new Map<number, { parts: (Tensor | null)[]; joined: JoinedWeights }>();
  private readonly layerCache: LayerParams[] = [];
  private packHolds = 0;

  constructor(
    readonly config: ModelConfig,
    readonly device: Device,
    values: Map<string, Tensor>,
  ) {
    this.params = parameterSpecs(config).map((s) => {
      const value = values.get(s.name);
      if (!value) throw new Error(`ParamStore: missing tensor ${s.name}`);
      if (value.shape.join() !== s.shape.join()) {
        throw new Error(`ParamStore: ${s.name} has shape [${value.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
      const p: Param = { name: s.name, shape: s.shape, value, grad: null, trainable: true };
      this.byName.set(s.name, p);
      return p;
    });
    for (let l = 0; l < config.numLayers; l++) {
      const lp = this.layer(l);
      packBackToBack([lp.q, lp.k, lp.v], device);
      if (lp.qBias && lp.kBias && lp.vBias) packBackToBack([lp.qBias, lp.kBias, lp.vBias], device);
      packBackToBack([lp.gate, lp.up], device);
    }
  }

  /**
   * The layer's q, k, v weights (H*D + 2*Hkv*D, C) and biases, and its gate, up weights (2F, C), each group as
   * one tensor over its back-to-back storage: the decode path's fused projections. A group is null when its
   * parameters no longer sit back to back (a value was replaced, e.g. by a loader); cached per layer while
   * the parameters stay the same tensors.
   */
  joined(l: number): JoinedWeights {
    const lp = this.layer(l);
    const parts = [lp.q, lp.k, lp.v, lp.qBias, lp.kBias, lp.vBias, lp.gate, lp.up].map((p) => p?.value ?? null);
    const hit = this.joinedCache.get(l);
    if (hit && hit.parts.every((t, i) => t === parts[i])) return hit.joined;
    if (hit) for (const t of Object.values(hit.joined)) t?.dispose();
    const C = this.config.hiddenSize;
    const rows = lp.q.shape[0] + lp.k.shape[0] + lp.v.shape[0];
    const joined: JoinedWeights = {
      qkv: Tensor.joined([lp.q.value, lp.k.value, lp.v.value], [rows, C]),
      qkvBias: lp.qBias && lp.kBias && lp.vBias ? Tensor.joined([lp.qBias.value, lp.kBias.value, lp.vBias.value], [rows]) : null,
      gateUp: Tensor.joined([lp.gate.value, lp.up.value], [2 * this.config.intermediateSize, C]),
    };
    this.joinedCache.set(l, { parts, joined });
    return joined;
  }

  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`no parameter ${name}`);
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get embed(): Param {
    return this.get('model.embed_tokens.weight');
  }

  /** lm_head (V, C): the embedding itself when tied (an untied sequence classifier has none) */
  get lmHead(): Param {
    if (this.config.tieWordEmbeddings) return this.embed;
    if (this.config.numLabels !== undefined) {
      throw new Error('this model is a sequence classifier (reward model) without an lm_head: it gives scores, not log-probs');
    }
    return this.get('lm_head.weight');
  }

  /** the value head score.weight (numLabels, C) of a sequence classifier */
  get scoreHead(): Param {
    if (this.config.numLabels === undefined) {
      throw new Error('this model is a causal LM without a value head (score.weight); add one with addValueHead');
    }
    return this.get('score.weight');
  }

  get finalNorm(): Param {
    return this.get('model.norm.weight');
  }

  /** Layer l's parameters (the same object on every call: Params are fixed at construction, their values may change). */
  layer(l: number): LayerParams {
    const hit = this.layerCache[l];
    if (hit) return hit;
    const p = `model.layers.${l}`;
    const bias = (n: string): Param | null => (this.config.attentionBias ? this.get(`${p}.self_attn.${n}_proj.bias`) : null);
    return (this.layerCache[l] = {
      inNorm: this.get(`${p}.input_layernorm.weight`),
      q: this.get(`${p}.self_attn.q_proj.weight`),
      k: this.get(`${p}.self_attn.k_proj.weight`),
      v: this.get(`${p}.self_attn.v_proj.weight`),
      qBias: bias('q'),
      kBias: bias('k'),
      vBias: bias('v'),
      o: this.get(`${p}.self_attn.o_proj.weight`),
      postNorm: this.get(`${p}.post_attention_layernorm.weight`),
      gate: this.get(`${p}.mlp.gate_proj.weight`),
      up: this.get(`${p}.mlp.up_proj.weight`),
      down: this.get(`${p}.mlp.down_proj.weight`),
    });
  }

  /**
   * Pack the weights batched decoding multiplies (every layer's projections and the head) once for the cpu GEMM
   * (packMatmulB): each decode step's matmuls then skip packing them, which is much of a GEMM with a few rows.
   * The packings are copies of today's values, as large as the weights: call the returned release before the
   * weights change (an optimizer step, a reload). Nested holds share one packing, freed by the last release. A
   * no-op on devices without a packed form.
   */
  packForDecode(): () => void {
    if (this.packHolds++ === 0) {
      const weights = new Set<Param>([this.lmHead]);
      for (let l = 0; l < this.config.numLayers; l++) {
        const lp = this.layer(l);
        for (const p of [lp.q, lp.k, lp.v, lp.o, lp.gate, lp.up, lp.down]) weights.add(p);
      }
      for (const p of weights) p.packed = packMatmulB(p.value, { transB: true });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.packHolds > 0) return;
      for (const p of this.params) {
        p.packed?.data.dispose();
        p.packed = null;
      }
    };
  }

  /** Allocate zeroed gradient buffers for trainable parameters that lack one. */
  ensureGrads(): void {
    for (const p of this.params) if (p.trainable && !p.grad) p.grad = zeros(p.shape, { device: this.device });
  }

  /** Total parameter count. */
  get size(): number {
    return this.params.reduce((a, p) => a + p.value.size, 0);
  }

  dispose(): void {
    for (const { joined } of this.joinedCache.values()) for (const t of Object.values(joined)) t?.dispose();
    this.joinedCache.clear();
    for (const p of this.params) {
      p.packed?.data.dispose();
      p.value.dispose();
      p.grad?.dispose();
    }
  }
}
