// Qwen2Model: the decoder used as policy, reference and built-in reward model. forwardLogprobs gives the
// per-token log-probs of target tokens over a right-padded batch (never full (T, V) logits) and, on request,
// the last position's logits; backward(weights) accumulates every trainable parameter's gradient of
// L = sum_{b,t} weights[b,t] * logprobs[b,t] (the GRPO loss supplies dLoss/dlogprob as weights).
// The runtime knob `recompute` (runtime.ts) keeps only each layer's input and recomputes its activations
// during backward, so memory stays bounded at long T. Every computation goes through @lwz/kernels ops, so the
// model runs unchanged on any backend. Decoding with a KV cache is in kv-cache.ts, LoRA in lora.ts, files in
// checkpoint.ts.
import { embedding, embeddingBackward, fill, mul, rmsnormBackward, tensor, zeros, type Device, type Tensor } from '@lwz/kernels';
import type { ModelConfig } from './config';
import { headLogitsAt, headLogprobsBackward, headLogprobsForward } from './head';
import { disposeActs, layerBackward, layerForward, reshapeOwned, rmsnorm, type LayerActs, type LayerLora, type StepCtx } from './layer';
import { scratchLike } from './linear';
import type { Param, ParamStore } from './params';
import { parseModelRuntime, type ModelRuntime, type ModelRuntimeInput } from './runtime';

export interface LogprobBatch {
  ids: Tensor; // (B, T) i32 input tokens, right-padded
  targets: Tensor; // (B, T) i32 token to score at each position (usually ids shifted left); < 0 = ignored
  /** (B,) valid tokens per row; positions t >= lengths[b] are ignored (logprob 0, no gradient) */
  lengths?: ArrayLike<number>;
}

export interface ForwardOptions {
  /** keep what backward() needs (default false: inference) */
  grad?: boolean;
  /** also compute `lastLogits` (B, V) at each row's last valid position */
  lastLogits?: boolean;
  /** also return the entropy (B, T) of the next-token distribution at every position (0 where ignored) */
  entropy?: boolean;
}

interface Saved {
  ctx: StepCtx;
  ids: Tensor; // (N,) i32
  targets: Tensor; // (N,) i32
  lse: Tensor; // (N,)
  inputs: Tensor[]; // L x (N, C) layer inputs
  acts: (LayerActs | null)[]; // full activations per layer, or null when recomputed
  xL: Tensor; // (N, C) last layer output
  xf: Tensor; // (N, C) after the final norm
  rstdF: Tensor; // (N,)
}

export interface LoraState {
  rank: number;
  alpha: number;
  targets: string[];
  params: Param[];
}

export class Qwen2Model {
  /** how the model computes (recompute, logit budget): validated at construction, frozen */
  readonly runtime: ModelRuntime;
  /** (B, V) logits of the last valid position, set by forwardLogprobs({ lastLogits: true }) */
  lastLogits: Tensor | null = null;
  /** per-layer LoRA adapters (empty objects when LoRA is off) */
  lora: LayerLora[];
  loraState: LoraState | null = null;
  private saved: Saved | null = null;

  constructor(
    readonly store: ParamStore,
    runtime: ModelRuntimeInput = {},
  ) {
    this.runtime = parseModelRuntime(runtime);
    this.lora = Array.from({ length: store.config.numLayers }, () => ({}));
  }

  get config(): ModelConfig {
    return this.store.config;
  }

  get device(): Device {
    return this.store.device;
  }

  /** Parameters an optimizer should update: every trainable base weight plus LoRA adapters. */
  trainableParams(): Param[] {
    return [...this.store.params.filter((p) => p.trainable), ...(this.loraState?.params ?? [])];
  }

  zeroGrad(): void {
    for (const p of this.trainableParams()) if (p.grad) fill(p.grad, 0);
  }

  forwardLogprobs(batch: LogprobBatch, opts: ForwardOptions = {}): { logprobs: Tensor; entropy?: Tensor } {
    this.releaseSaved();
    const cfg = this.config;
    const device = this.device;
    const [B, T] = batch.ids.shape;
    const N = B * T;
    const lengths = Array.from(batch.lengths ?? new Array<number>(B).fill(T));
    const tgt = Int32Array.from(batch.targets.toHost());
    for (let b = 0; b < B; b++) {
      if (!(lengths[b] >= 0 && lengths[b] <= T)) throw new Error(`forwardLogprobs: lengths[${b}] = ${lengths[b]} is outside [0, ${T}]`);
      tgt.fill(-1, b * T + lengths[b], (b + 1) * T);
    }
    const targets = tensor(tgt, [N], { device, dtype: 'i32' });
    const positions = new Int32Array(N);
    for (let i = 0; i < N; i++) positions[i] = i % T;
    const ctx: StepCtx = {
      cfg,
      device,
      B,
      T,
      positions: tensor(positions, [B, T], { device, dtype: 'i32' }),
      qOffset: zeros([B], { device, dtype: 'i32' }),
      kvStart: zeros([B], { device, dtype: 'i32' }),
    };
    const ids = batch.ids.reshape([N]); // (N,) a view of the caller's ids, released with the saved state
    let x = embedding(this.store.embed.value, ids); // (N, C)
    const inputs: Tensor[] = [];
    const acts: (LayerActs | null)[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const res = layerForward(ctx, this.store.layer(l), this.lora[l], x);
      const keep = opts.grad && !this.runtime.recompute;
      if (opts.grad) inputs.push(x);
      acts.push(keep ? res.acts : null);
      if (!keep) disposeActs(res.acts);
      if (!opts.grad) x.dispose();
      x = res.out;
    }
    const { y: xf, rstd: rstdF } = rmsnorm(x, this.store.finalNorm.value, cfg.rmsNormEps);
    const { logprobs, lse, entropy } = headLogprobsForward(xf, this.store.lmHead, targets, this.runtime.logitBudget, opts.entropy);
    if (opts.lastLogits) {
      this.lastLogits?.dispose();
      const rows = Int32Array.from({ length: B }, (_, b) => b * T + Math.max(0, lengths[b] - 1));
      const rowsT = tensor(rows, [B], { device, dtype: 'i32' });
      this.lastLogits = headLogitsAt(xf, this.store.lmHead, rowsT);
      rowsT.dispose();
    }
    if (opts.grad) this.saved = { ctx, ids, targets, lse, inputs, acts, xL: x, xf, rstdF };
    else for (const t of [x, xf, rstdF, lse, targets, ids, ...ctxTensors(ctx)]) t.dispose();
    const out = { logprobs: reshapeOwned(logprobs, [B, T]) };
    if (!entropy) return out;
    // ignored positions report entropy 0, like their log-probs: multiply by the valid-position mask (N,)
    const valid = tensor(
      Float32Array.from(tgt, (t) => (t < 0 ? 0 : 1)),
      [N],
      { device },
    );
    mul(entropy, valid, { out: entropy });
    valid.dispose();
    return { ...out, entropy: reshapeOwned(entropy, [B, T]) };
  }

  /** Accumulate grads of sum(weights * logprobs) for the last forwardLogprobs({ grad: true }). weights (B, T). */
  backward(weights: Tensor): void {
    const s = this.saved;
    if (!s) throw new Error('backward() needs a preceding forwardLogprobs(batch, { grad: true })');
    this.saved = null;
    const ctx = s.ctx;
    const device = this.device;
    const N = ctx.B * ctx.T;
    if (weights.size !== N) throw new Error(`backward: weights have ${weights.size} values, expected (B, T) = ${N}`);
    for (const p of this.trainableParams()) if (!p.grad) p.grad = zeros(p.shape, { device });
    const flatWeights = weights.reshape([N]);
    const dxf = headLogprobsBackward(s.xf, this.store.lmHead, s.targets, s.lse, flatWeights, this.runtime.logitBudget);
    flatWeights.dispose();
    let dx = zeros([N, this.config.hiddenSize], { device });
    const norm = this.store.finalNorm;
    const dw = norm.trainable && norm.grad ? norm.grad : scratchLike(norm.value);
    rmsnormBackward(dxf, s.xL, norm.value, s.rstdF, dw, { dx });
    if (dw !== norm.grad) dw.dispose();
    dxf.dispose();
    for (let l = this.config.numLayers - 1; l >= 0; l--) {
      const lp = this.store.layer(l);
      let acts = s.acts[l];
      if (!acts) {
        const res = layerForward(ctx, lp, this.lora[l], s.inputs[l]);
        res.out.dispose();
        acts = res.acts;
      }
      dx = layerBackward(ctx, lp, this.lora[l], acts, dx);
      disposeActs(acts);
      s.inputs[l].dispose();
    }
    const embed = this.store.embed;
    if (embed.trainable && embed.grad) embeddingBackward(dx, s.ids, embed.grad);
    for (const t of [dx, s.xL, s.xf, s.rstdF, s.lse, s.targets, s.ids, ...ctxTensors(ctx)]) t.dispose();
  }

  /** log p(ids[t] | ids[<t]) for t = 1..T-1 of one sequence (T-1 values), in one forward pass. */
  sequenceLogprobs(ids: readonly number[]): number[] {
    const T = ids.length;
    if (T < 2) return [];
    const device = this.device;
    const input = tensor(Int32Array.from(ids), [1, T], { device, dtype: 'i32' });
    const targets = tensor(
      Int32Array.from({ length: T }, (_, t) => (t + 1 < T ? ids[t + 1] : -1)),
      [1, T],
      { device, dtype: 'i32' },
    );
    const { logprobs } = this.forwardLogprobs({ ids: input, targets });
    const out = Array.from(logprobs.toHost()).slice(0, T - 1);
    for (const t of [logprobs, input, targets]) t.dispose();
    return out;
  }

  /** Bytes of activations currently kept for backward (0 when none): what `recompute` shrinks. */
  get savedBytes(): number {
    const s = this.saved;
    if (!s) return 0;
    const tensors = [...s.inputs, s.xL, s.xf, s.rstdF, s.lse, s.targets];
    for (const a of s.acts) {
      if (!a) continue;
      tensors.push(a.rstd1, a.h1, a.q, a.k, a.v, a.attn, a.lse, a.x2, a.rstd2, a.h2, a.g, a.u, a.a);
      for (const t of Object.values(a.xa)) if (t) tensors.push(t);
    }
    return tensors.reduce((n, t) => n + 4 * t.size, 0);
  }

  private releaseSaved(): void {
    const s = this.saved;
    if (!s) return;
    this.saved = null;
    for (const a of s.acts) if (a) disposeActs(a);
    for (const t of [...s.inputs, s.xL, s.xf, s.rstdF, s.lse, s.targets, s.ids, ...ctxTensors(s.ctx)]) t.dispose();
  }

  dispose(): void {
    this.releaseSaved();
    this.lastLogits?.dispose();
    this.store.dispose();
    for (const p of this.loraState?.params ?? []) {
      p.value.dispose();
      p.grad?.dispose();
    }
  }
}

/** The per-call tensors of a StepCtx (positions and offsets), freed with the call's saved state. */
function ctxTensors(ctx: StepCtx): Tensor[] {
  return [ctx.positions, ctx.qOffset, ctx.kvStart];
}
