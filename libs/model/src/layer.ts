// One Qwen2 decoder layer, forward and backward, through @lwz/kernels:
//   h1 = rmsnorm(x); q,k,v = h1 W^T + b; rope(q, k); x2 = x + o(attn(q, k, v))
//   h2 = rmsnorm(x2); out = x2 + down(silu(gate(h2)) * up(h2))
// The forward returns every activation the backward needs (LayerActs); with recomputation the model keeps
// only x and calls layerForward again during backward. Not the KV cache bookkeeping (kv-cache.ts) nor the
// embedding / lm_head (model.ts, head.ts). Shapes: N = B*T rows, C hidden, H/Hkv heads, D head dim, F ffn.
import {
  add,
  attention,
  matmul,
  attentionBackward,
  copy,
  empty,
  rmsnorm as rmsnormOp,
  rmsnormBackward,
  rope,
  swiglu,
  swigluBackward,
  tidy,
  type Device,
  type KvLayout,
  type Tensor,
} from '@lwz/kernels';
import type { ModelConfig } from './config';
import { linearBackward, linearForward, scratchLike, type LoraAdapter } from './linear';
import type { JoinedWeights, LayerParams } from './params';

export type ProjName = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';
export type LayerLora = Partial<Record<ProjName, LoraAdapter>>;

export interface StepCtx {
  cfg: ModelConfig;
  device: Device;
  B: number;
  T: number;
  positions: Tensor; // (B, T) i32
  qOffset: Tensor; // (B,) i32
  kvStart: Tensor; // (B,) i32
}

export interface LayerActs {
  x: Tensor; // (N, C) layer input
  rstd1: Tensor; // (N,)
  h1: Tensor; // (N, C)
  q: Tensor; // (B, T, H, D) after rope
  k: Tensor; // (B, T, Hkv, D) after rope; with a KV cache the cache's (B, Hkv, S, D) (kv-cache.ts)
  v: Tensor; // as k
  attn: Tensor; // (B, T, H, D)
  lse: Tensor; // (B, H, T)
  x2: Tensor; // (N, C)
  rstd2: Tensor; // (N,)
  h2: Tensor; // (N, C)
  g: Tensor; // (N, F)
  u: Tensor; // (N, F)
  a: Tensor; // (N, F)
  xa: Partial<Record<ProjName, Tensor | null>>; // LoRA x A^T per adapted projection
}

/**
 * Hook for the KV cache: receives this step's roped k, v (B, T, Hkv, D) (freed after the call), returns the
 * keys/values to attend and their layout (the cache's head-major (B, Hkv, S, D): 'bhsd'), owned by the cache:
 * `LayerActs.k`/`v` then point at them, see disposeActs. Without a hook (training) k/v are (B, T, Hkv, D), 'bshd'.
 */
export type KvHook = (k: Tensor, v: Tensor) => { k: Tensor; v: Tensor; kvLayout: KvLayout };

/** `t` seen with another shape; `t` itself is released, so the view owns the storage from here on. */
export function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  const view = t.reshape(shape);
  t.dispose();
  return view;
}

/** RMSNorm of x (N, C) rows: y (N, C) and the saved rstd (N,). */
export function rmsnorm(x: Tensor, w: Tensor, eps: number): { y: Tensor; rstd: Tensor } {
  return rmsnormOp(x, w, eps);
}

/**
 * y (1, sum of the parts' widths) = x (1, C) W^T (+ b) for weights stored back to back, cut into one view per
 * part: one GEMV (one pass over the weights, one dispatch) instead of one per projection. One row only: with
 * more rows the parts' columns interleave in y.
 */
function joinedProjection(x: Tensor, w: Tensor, bias: Tensor | null, shapes: number[][]): Tensor[] {
  const y = matmul(x, w, { transB: true });
  if (bias) add(y, bias, { out: y });
  let at = 0;
  const parts = shapes.map((shape) => {
    const part = y.view(at, shape);
    at += part.size;
    return part;
  });
  y.dispose();
  return parts;
}

/**
 * `joined`: the layer's back-to-back weights (ParamStore.joined), used for a single-row step (N = 1, decode at
 * batch 1) on the projections without LoRA; the same products as the separate projections.
 */
export function layerForward(
  ctx: StepCtx,
  lp: LayerParams,
  lora: LayerLora,
  x: Tensor,
  kvHook?: KvHook,
  joined?: JoinedWeights,
): { out: Tensor; acts: LayerActs } {
  const { cfg, device, B, T } = ctx;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = cfg;
  const N = B * T;
  const xa: LayerActs['xa'] = {};
  const { y: h1, rstd: rstd1 } = rmsnorm(x, lp.inNorm.value, cfg.rmsNormEps);
  const proj = (name: ProjName, input: Tensor, w: LayerParams[ProjName], bias: LayerParams['qBias']): Tensor => {
    const r = linearForward(input, w, bias, lora[name] ?? null);
    xa[name] = r.xa;
    return r.y;
  };
  const fused = N === 1 ? joined : undefined;
  const qkvJoined = fused?.qkv && !lora.q && !lora.k && !lora.v && (fused.qkvBias || !lp.qBias) ? fused.qkv : null;
  let q: Tensor, k: Tensor, v: Tensor;
  if (qkvJoined) {
    [q, k, v] = joinedProjection(h1, qkvJoined, fused?.qkvBias ?? null, [
      [B, T, H, D],
      [B, T, Hkv, D],
      [B, T, Hkv, D],
    ]);
  } else {
    q = reshapeOwned(proj('q', h1, lp.q, lp.qBias), [B, T, H, D]);
    k = reshapeOwned(proj('k', h1, lp.k, lp.kBias), [B, T, Hkv, D]);
    v = reshapeOwned(proj('v', h1, lp.v, lp.vBias), [B, T, Hkv, D]);
  }
  rope(q, ctx.positions, cfg.ropeTheta, { inPlace: true });
  rope(k, ctx.positions, cfg.ropeTheta, { inPlace: true });
  let kvLayout: KvLayout = 'bshd';
  if (kvHook) {
    const step = { k, v };
    ({ k, v, kvLayout } = kvHook(k, v));
    step.k.dispose();
    step.v.dispose();
  }
  const { out: attn, lse } = attention(q, k, v, { qOffset: ctx.qOffset, kvStart: ctx.kvStart, scale: 1 / Math.sqrt(D), kvLayout }); // (B, T, H, D), (B, H, T)
  const x2 = copy(x, empty([N, cfg.hiddenSize], { device })); // residual stream: x2 = x + o(attn)
  xa.o = tidy(() => linearForward(attn.reshape([N, H * D]), lp.o, null, lora.o ?? null, x2, true).xa);
  const { y: h2, rstd: rstd2 } = rmsnorm(x2, lp.postNorm.value, cfg.rmsNormEps);
  const F = cfg.intermediateSize;
  const gateUp = fused?.gateUp && !lora.gate && !lora.up ? fused.gateUp : null;
  const [g, u] = gateUp
    ? joinedProjection(h2, gateUp, null, [
        [N, F],
        [N, F],
      ])
    : [proj('gate', h2, lp.gate, null), proj('up', h2, lp.up, null)];
  const a = swiglu(g, u); // (N, F)
  const out = copy(x2, empty([N, cfg.hiddenSize], { device })); // out = x2 + down(a)
  xa.down = linearForward(a, lp.down, null, lora.down ?? null, out, true).xa;
  return { out, acts: { x, rstd1, h1, q, k, v, attn, lse, x2, rstd2, h2, g, u, a, xa } };
}

function normBackward(dy: Tensor, x: Tensor, w: LayerParams['inNorm'], rstd: Tensor, dxAcc: Tensor): void {
  const dw = w.trainable && w.grad ? w.grad : scratchLike(w.value);
  const { dx } = rmsnormBackward(dy, x, w.value, rstd, dw);
  add(dxAcc, dx, { out: dxAcc });
  dx.dispose();
  if (dw !== w.grad) dw.dispose();
}

/**
 * Backward of one layer. `dOut` (N, C), the gradient of the layer output, is consumed: the returned dx
 * (gradient of the layer input) is written into the same buffer. Parameter grads accumulate.
 */
export function layerBackward(ctx: StepCtx, lp: LayerParams, lora: LayerLora, acts: LayerActs, dOut: Tensor): Tensor {
  const { cfg, device, B, T } = ctx;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = cfg;
  const N = B * T;
  // MLP branch
  // the gradient buffers below are written whole by their first linearBackward (no accumulation): `empty`
  const da = empty(acts.a.shape, { device });
  linearBackward(dOut, acts.a, lp.down, null, lora.down ?? null, acts.xa.down ?? null, da, false);
  const { dGate: dg, dUp: du } = swigluBackward(da, acts.g, acts.u);
  da.dispose();
  const dh2 = empty([N, cfg.hiddenSize], { device });
  linearBackward(dg, acts.h2, lp.gate, null, lora.gate ?? null, acts.xa.gate ?? null, dh2, false);
  linearBackward(du, acts.h2, lp.up, null, lora.up ?? null, acts.xa.up ?? null, dh2, true);
  dg.dispose();
  du.dispose();
  normBackward(dh2, acts.x2, lp.postNorm, acts.rstd2, dOut); // dOut now holds dx2
  dh2.dispose();
  // attention branch
  const dattn = empty([B, T, H, D], { device });
  tidy(() =>
    linearBackward(dOut, acts.attn.reshape([N, H * D]), lp.o, null, lora.o ?? null, acts.xa.o ?? null, dattn.reshape([N, H * D]), false),
  );
  const { dq, dk, dv } = attentionBackward(acts.q, acts.k, acts.v, acts.attn, acts.lse, dattn, {
    qOffset: ctx.qOffset,
    kvStart: ctx.kvStart,
    scale: 1 / Math.sqrt(D),
  });
  dattn.dispose();
  rope(dq, ctx.positions, cfg.ropeTheta, { inverse: true, inPlace: true });
  rope(dk, ctx.positions, cfg.ropeTheta, { inverse: true, inPlace: true });
  const dh1 = empty([N, cfg.hiddenSize], { device });
  tidy(() => {
    linearBackward(dq.reshape([N, H * D]), acts.h1, lp.q, lp.qBias, lora.q ?? null, acts.xa.q ?? null, dh1, false);
    linearBackward(dk.reshape([N, Hkv * D]), acts.h1, lp.k, lp.kBias, lora.k ?? null, acts.xa.k ?? null, dh1, true);
    linearBackward(dv.reshape([N, Hkv * D]), acts.h1, lp.v, lp.vBias, lora.v ?? null, acts.xa.v ?? null, dh1, true);
  });
  dq.dispose();
  dk.dispose();
  dv.dispose();
  normBackward(dh1, acts.x, lp.inNorm, acts.rstd1, dOut); // dOut now holds dx
  dh1.dispose();
  return dOut;
}

/** Free a layer's activations except its input x (kept by the model) and, with a KV cache, its k/v (the cache's). */
export function disposeActs(acts: LayerActs, kvOwned = true): void {
  if (kvOwned) {
    acts.k.dispose();
    acts.v.dispose();
  }
  for (const t of [acts.rstd1, acts.h1, acts.q, acts.attn, acts.lse, acts.x2, acts.rstd2, acts.h2, acts.g, acts.u, acts.a]) {
    t.dispose();
  }
  for (const t of Object.values(acts.xa)) t?.dispose();
}
