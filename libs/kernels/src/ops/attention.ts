// Attention ops: causal grouped-query attention with an optional KV prefix and left padding, and its
// backward. Offsets default to a KV prefix of S - T (0 for self-attention) and kvStart 0.
// q (B, T, H, D), k/v (B, S, Hkv, D), out (B, T, H, D), lse (B, H, T). The forward also reads k/v head-major,
// (B, Hkv, S, D) with kvLayout 'bhsd': the KV cache's layout, where one kv head's keys are contiguous so the
// decode reads whole rows (#10); the backward (training) takes 'bshd' only.
import { getKernel } from '../registry';
import { tensor } from '../create';
import { Tensor, type Device } from '../tensor';
import type { AttentionArgs } from '../kernel-signatures';
import { kvShape, type KvLayout } from '../kv-layout';
import { expectDtype, expectRank, expectShape, outputOr, sameDevice } from './checks';

export interface AttentionOptions {
  /** per row (B,) or one value for all rows: absolute key index of query 0; default S - T */
  qOffset?: number | readonly number[] | Tensor;
  /** per row (B,) or one value: first visible key (left padding); default 0 */
  kvStart?: number | readonly number[] | Tensor;
  /** default 1 / sqrt(D) */
  scale?: number;
  /** k/v layout: 'bshd' (B, S, Hkv, D), the default, or head-major 'bhsd' (B, Hkv, S, D) (forward only) */
  kvLayout?: KvLayout;
}

function rowTensor(name: string, value: number | readonly number[] | Tensor, b: number, device: Device): Tensor {
  if (value instanceof Tensor) {
    expectDtype('attention', name, value, 'i32');
    expectShape('attention', name, value, [b]);
    return value;
  }
  const values = typeof value === 'number' ? new Array<number>(b).fill(value) : value;
  if (values.length !== b) throw new Error(`attention: ${name} has ${values.length} values, expected one per row (B = ${b})`);
  if (values.some((x) => !Number.isInteger(x))) throw new Error(`attention: ${name} must hold integers, got [${values.join(', ')}]`);
  return tensor(Int32Array.from(values), [b], { device, dtype: 'i32' });
}

/** Checked kernel arguments; the offset tensors made here from numbers are the caller's to dispose. */
function attentionArgs(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): AttentionArgs {
  const device = sameDevice(op, q, k, v);
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    expectRank(op, name, t, 4);
    expectDtype(op, name, t, 'f32');
  }
  const kvLayout = opts.kvLayout ?? 'bshd';
  if (kvLayout !== 'bshd' && kvLayout !== 'bhsd') throw new Error(`${op}: kvLayout must be 'bshd' or 'bhsd', got '${String(kvLayout)}'`);
  const [b, t, h, d] = q.shape;
  const [kb, s, hkv, kd] = kvShape(k, kvLayout);
  if (kb !== b || kd !== d) throw new Error(`${op}: k [${k.shape.join(', ')}] does not match q [${q.shape.join(', ')}] in B or D`);
  expectShape(op, 'v', v, k.shape);
  if (hkv === 0 || h % hkv !== 0) throw new Error(`${op}: query heads H = ${h} must be a multiple of kv heads Hkv = ${hkv}`);
  return {
    q,
    k,
    v,
    qOffset: rowTensor('qOffset', opts.qOffset ?? s - t, b, device),
    kvStart: rowTensor('kvStart', opts.kvStart ?? 0, b, device),
    scale: opts.scale ?? 1 / Math.sqrt(d),
    kvLayout,
  };
}

function disposeMade(args: AttentionArgs, opts: AttentionOptions): void {
  if (!(opts.qOffset instanceof Tensor)) args.qOffset.dispose();
  if (!(opts.kvStart instanceof Tensor)) args.kvStart.dispose();
}

/**
 * softmax(q k^T * scale, causal + prefix + padding mask) v per head; lse saved for the backward.
 * `opts.out` (B, T, H, D) / `opts.lse` (B, H, T) receive the results instead of fresh tensors.
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions & { out?: Tensor; lse?: Tensor } = {},
): { out: Tensor; lse: Tensor } {
  const args = attentionArgs('attention', q, k, v, opts);
  const [b, t, h] = q.shape;
  const out = outputOr('attention', 'out', opts.out, q.shape, q.device, 'f32', true);
  const lse = outputOr('attention', 'lse', opts.lse, [b, h, t], q.device, 'f32', true);
  // Object.assign, not `{ ...args, out, lse }`: V8 (Node 20) builds an object spread followed by more properties on a
  // slow path, 3.5 us a call here, where this op's other checks take well under 1 us (benchmarks/README.md, #10)
  getKernel('attentionForward', q.device)(Object.assign(args, { out, lse }));
  disposeMade(args, opts);
  return { out, lse };
}

/** Gradients of attention given its out, lse and dOut; the same options as the forward call (plus outputs), k/v 'bshd' only. */
export function attentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dOut: Tensor,
  opts: AttentionOptions & { dq?: Tensor; dk?: Tensor; dv?: Tensor } = {},
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  if ((opts.kvLayout ?? 'bshd') !== 'bshd') {
    throw new Error(
      `attentionBackward: kvLayout '${opts.kvLayout}' is forward-only (the KV cache's); training takes k/v as 'bshd' (B, S, Hkv, D)`,
    );
  }
  const args = attentionArgs('attentionBackward', q, k, v, opts);
  sameDevice('attentionBackward', q, out, lse, dOut);
  const [b, t, h] = q.shape;
  expectShape('attentionBackward', 'out', out, q.shape);
  expectShape('attentionBackward', 'dOut', dOut, q.shape);
  expectShape('attentionBackward', 'lse', lse, [b, h, t]);
  const device = q.device;
  const dq = outputOr('attentionBackward', 'dq', opts.dq, q.shape, device, 'f32', true);
  const dk = outputOr('attentionBackward', 'dk', opts.dk, k.shape, device, 'f32', true);
  const dv = outputOr('attentionBackward', 'dv', opts.dv, v.shape, device, 'f32', true);
  getKernel('attentionBackward', device)(Object.assign(args, { out, lse, dOut, dq, dk, dv })); // not a spread: as attention()
  disposeMade(args, opts);
  return { dq, dk, dv };
}
