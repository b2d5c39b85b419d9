// Qwen2Model: the decoder used as policy, reference and built-in reward model. forwardLogprobs gives the
// per-token log-probs of target tokens over a right-padded batch (never full (T, V) logits) and, on request,
// the last position's logits; forwardScores gives a sequence classifier's value-head score per sequence
// (value-head.ts). backward(weights) accumulates every trainable parameter's gradient of
// L = sum weights * (the last forward's outputs): per token for log-probs (the GRPO loss supplies
// dLoss/dlogprob), per sequence for scores (a Bradley-Terry loss supplies dLoss/dscore).
// The runtime knob `recompute` (runtime.ts) keeps only each layer's input and recomputes its activations
// during backward, so memory stays bounded at long T. Every computation goes through @lwz/kernels ops, so the
// model runs unchanged on any backend. Decoding with a KV cache is in kv-cache.ts, LoRA in lora.ts, files in
// checkpoint.ts.
import { embedding, embeddingBackward, empty, fill, rmsnormBackward, tensor, zeros, type Device, type Tensor } from '@lwz/kernels';
import type { ModelConfig } from './config';
import { headLogitsAt, headLogprobsBackward, headLogprobsForward } from './head';
import { disposeActs, layerBackward, layerForward, reshapeOwned, rmsnorm, type LayerActs, type LayerLora, type StepCtx } from './layer';
import { scratchLike } from './linear';
import type { Param, ParamStore } from './params';
import { parseModelRuntime, type ModelRuntime, type ModelRuntimeInput } from './runtime';
import { lastRows, valueHeadBackward, valueHeadForward } from './value-head';

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

export interface ScoreBatch {
  ids: Tensor; // (B, T) i32 input tokens, right-padded
  /** (B,) valid tokens per row (default T); each row is scored at its last valid token */
  lengths?: ArrayLike<number>;
}

/** What the decoder body keeps for backward (and what any head reads). */
interface Trunk {
  ctx: StepCtx;
  ids: Tensor; // (N,) i32
  inputs: Tensor[]; // L x (N, C) layer inputs
  acts: (LayerActs | null)[]; // full activations per layer, or null when recomputed
  xL: Tensor; // (N, C) last layer output
  xf: Tensor; // (N, C) after the final norm
  rstdF: Tensor; // (N,)
}

type HeadSaved =
  | {
      head: 'logprobs';
      targets: Tensor /* (N,) i32, or (Nv,) for the scored rows */;
      lse: Tensor /* (N,), or (Nv,) */;
      /** the scored rows (Nv,) i32, when some positions were ignored (backward gathers their xf rows again) */
      scored: Tensor | null;
    }
  | { head: 'scores'; rows: Tensor /* (B,) i32 */; picked: Tensor /* (B, C) */ };
type Saved = Trunk & HeadSaved;

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
    const device = this.device;
    const [B, T] = batch.ids.shape;
    const N = B * T;
    const lengths = checkedLengths(batch.lengths, B, T, 'forwardLogprobs');
    const tgt = Int32Array.from(batch.targets.toHost());
    for (let b = 0; b < B; b++) tgt.fill(-1, b * T + lengths[b], (b + 1) * T);
    const trunk = this.trunk(batch.ids, !!opts.grad);
    const { xf } = trunk;
    // The head (logits, log-softmax, and in backward their recompute and two GEMMs) only at the scored positions:
    // with padding, or targets ignored over a prompt (GRPO scores the answer only), the rows with a target are
    // gathered first, and the log-probs (0 elsewhere) scattered back.
    const scoredIdx: number[] = [];
    for (let i = 0; i < N; i++) if (tgt[i] >= 0) scoredIdx.push(i);
    const compact = scoredIdx.length > 0 && scoredIdx.length < N;
    const scored = compact ? tensor(Int32Array.from(scoredIdx), [scoredIdx.length], { device, dtype: 'i32' }) : null;
    const xs = scored ? embedding(xf, scored) : xf; // (Nv, C)
    const targets = tensor(compact ? Int32Array.from(scoredIdx, (i) => tgt[i]) : tgt, [compact ? scoredIdx.length : N], {
      device,
      dtype: 'i32',
    });
    const head = headLogprobsForward(xs, this.store.lmHead, targets, this.runtime.logitBudget, opts.entropy);
    if (xs !== xf) xs.dispose();
    const { lse } = head;
    const scatter = (v: Tensor): Tensor => {
      if (!scored) return v;
      const full = zeros([N, 1], { device });
      const column = v.reshape([scoredIdx.length, 1]);
      embeddingBackward(column, scored, full);
      column.dispose();
      v.dispose();
      return reshapeOwned(full, [N]);
    };
    const logprobs = scatter(head.logprobs);
    const entropy = head.entropy ? scatter(head.entropy) : null;
    if (opts.lastLogits) {
      this.lastLogits?.dispose();
      const rowsT = tensor(lastRows(lengths, T), [B], { device, dtype: 'i32' });
      this.lastLogits = headLogitsAt(xf, this.store.lmHead, rowsT);
      rowsT.dispose();
    }
    if (opts.grad) this.saved = { ...trunk, head: 'logprobs', targets, lse, scored };
    else for (const t of [...trunkTensors(trunk), lse, targets, ...(scored ? [scored] : [])]) t.dispose();
    const out = { logprobs: reshapeOwned(logprobs, [B, T]) };
    if (!entropy) return out;
    // ignored positions report entropy 0, like their log-probs: the scatter left them 0; with nothing scored the
    // head ran over every row, so all of it is 0
    if (scoredIdx.length === 0) fill(entropy, 0);
    return { ...out, entropy: reshapeOwned(entropy, [B, T]) };
  }

  /**
   * A sequence classifier's scores (B,): the value head (score.weight) at each row's last valid token
   * (lengths[b] - 1; rows are right-padded and padding never reaches earlier positions: attention is causal).
   * With `positions: 'all'`, the head at every position instead, (B, T): position t scores the prefix
   * ids[b, 0..t] (padded positions are scored too; callers ignore them). With `grad`, backward(dScores) (the
   * same shape) then accumulates grads of sum(dScores * scores).
   */
  forwardScores(batch: ScoreBatch, opts: { grad?: boolean; positions?: 'last' | 'all' } = {}): Tensor {
    this.releaseSaved();
    const head = this.store.scoreHead;
    const [B, T] = batch.ids.shape;
    const lengths = checkedLengths(batch.lengths, B, T, 'forwardScores');
    const all = opts.positions === 'all';
    const rows = tensor(all ? Int32Array.from({ length: B * T }, (_, i) => i) : lastRows(lengths, T), [all ? B * T : B], {
      device: this.device,
      dtype: 'i32',
    });
    const trunk = this.trunk(batch.ids, !!opts.grad);
    const { scores, picked } = valueHeadForward(trunk.xf, head, rows);
    if (opts.grad) this.saved = { ...trunk, head: 'scores', rows, picked };
    else for (const t of [...trunkTensors(trunk), rows, picked]) t.dispose();
    return all ? reshapeOwned(scores, [B, T]) : scores;
  }

  /** The decoder body: embedding, every layer, the final norm; keeps what backward needs when `grad`. */
  private trunk(idsBT: Tensor, grad: boolean): Trunk {
    const cfg = this.config;
    const device = this.device;
    const [B, T] = idsBT.shape;
    const N = B * T;
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
    const ids = idsBT.reshape([N]); // (N,) a view of the caller's ids, released with the saved state
    let x = embedding(this.store.embed.value, ids); // (N, C)
    const inputs: Tensor[] = [];
    const acts: (LayerActs | null)[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const res = layerForward(ctx, this.store.layer(l), this.lora[l], x);
      const keep = grad && !this.runtime.recompute;
      if (grad) inputs.push(x);
      acts.push(keep ? res.acts : null);
      if (!keep) disposeActs(res.acts);
      if (!grad) x.dispose();
      x = res.out;
    }
    const { y: xf, rstd: rstdF } = rmsnorm(x, this.store.finalNorm.value, cfg.rmsNormEps);
    return { ctx, ids, inputs, acts, xL: x, xf, rstdF };
  }

  /**
   * Accumulate grads of sum(weights * outputs) for the last forward with { grad: true }: weights (B, T) after
   * forwardLogprobs, (B,) after forwardScores.
   */
  backward(weights: Tensor): void {
    const s = this.saved;
    if (!s) throw new Error('backward() needs a preceding forwardLogprobs(batch, { grad: true }) or forwardScores(batch, { grad: true })');
    this.saved = null;
    const ctx = s.ctx;
    const N = ctx.B * ctx.T;
    const want = s.head === 'logprobs' ? N : s.rows.size;
    if (weights.size !== want) {
      const shape = s.head === 'logprobs' || want === N ? `(B, T) = ${N}` : `(B,) = ${ctx.B}`;
      throw new Error(
        `backward: weights have ${weights.size} values, expected ${shape} after forward${s.head === 'logprobs' ? 'Logprobs' : 'Scores'}`,
      );
    }
    for (const p of this.trainableParams()) if (!p.grad) p.grad = zeros(p.shape, { device: this.device });
    let dxf: Tensor;
    if (s.head === 'logprobs') {
      const flatWeights = weights.reshape([N, 1]);
      if (s.scored) {
        // the scored rows' weights gathered, their dx scattered back: ignored positions get no gradient
        const rows = s.scored;
        const x = embedding(s.xf, rows); // (Nv, C)
        const w = embedding(flatWeights, rows); // (Nv, 1)
        const wv = w.reshape([rows.size]);
        const dxs = headLogprobsBackward(x, this.store.lmHead, s.targets, s.lse, wv, this.runtime.logitBudget);
        dxf = zeros([N, this.config.hiddenSize], { device: this.device });
        embeddingBackward(dxs, rows, dxf);
        for (const t of [w, wv, dxs, rows, x]) t.dispose();
      } else {
        const wv = flatWeights.reshape([N]);
        dxf = headLogprobsBackward(s.xf, this.store.lmHead, s.targets, s.lse, wv, this.runtime.logitBudget);
        wv.dispose();
      }
      flatWeights.dispose();
      s.targets.dispose();
      s.lse.dispose();
    } else {
      dxf = valueHeadBackward(weights, this.store.scoreHead, s.rows, s.picked, N);
      s.rows.dispose();
      s.picked.dispose();
    }
    this.trunkBackward(s, dxf);
  }

  /** Backward through the final norm, every layer and the embedding, from dxf (N, C) (consumed). */
  private trunkBackward(s: Trunk, dxf: Tensor): void {
    const ctx = s.ctx;
    const N = ctx.B * ctx.T;
    let dx = empty([N, this.config.hiddenSize], { device: this.device }); // written whole by rmsnormBackward
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
    for (const t of [dx, s.xL, s.xf, s.rstdF, s.ids, ...ctxTensors(ctx)]) t.dispose();
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
    const tensors = [...s.inputs, s.xL, s.xf, s.rstdF, ...headTensors(s)];
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
    for (const t of [...trunkTensors(s), ...s.inputs, ...headTensors(s)]) t.dispose();
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

/** A trunk's tensors other than its layer inputs and activations (those go layer by layer). */
function trunkTensors(t: Trunk): Tensor[] {
  return [t.xL, t.xf, t.rstdF, t.ids, ...ctxTensors(t.ctx)];
}

function headTensors(s: HeadSaved): Tensor[] {
  return s.head === 'logprobs' ? [s.lse, s.targets, ...(s.scored ? [s.scored] : [])] : [s.rows, s.picked];
}

/** (B,) lengths, each in [0, T] (default T). */
function checkedLengths(lengths: ArrayLike<number> | undefined, B: number, T: number, what: string): number[] {
  const out = Array.from(lengths ?? new Array<number>(B).fill(T));
  if (out.length !== B) throw new Error(`${what}: ${out.length} lengths for ${B} rows`);
  out.forEach((len, b) => {
    if (!(Number.isInteger(len) && len >= 0 && len <= T)) throw new Error(`${what}: lengths[${b}] = ${len} is outside [0, ${T}]`);
  });
  return out;
}
