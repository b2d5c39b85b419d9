// Data movement ops: copy one tensor's elements into another (any shapes of equal size, views included)
// and fill a tensor with one value. With views (Tensor.view / rows) these move rows of a KV cache or
// activations on any backend without the caller touching host memory.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectSize, sameDevice } from './checks';

/** out = src element for element (same dtype and size; shapes may differ); returns out. */
export function copy(src: Tensor, out: Tensor): Tensor {
  const device = sameDevice('copy', src, out);
  if (src.dtype !== out.dtype) throw new Error(`copy: src is ${src.dtype}, out is ${out.dtype}`);
  expectSize('copy', 'out', out, src.size, `${src.size} (the size of src)`);
  if (src.overlaps(out)) {
    if (src.offset === out.offset) return out;
    throw new Error(`copy: src and out overlap in one storage (offsets ${src.offset} and ${out.offset}, ${src.size} values)`);
  }
  if (src.size > 0) getKernel('copyForward', device)({ src, out });
  return out;
}

/**
 * Rows of src (B, T, ...) into out (B, S, ...) at per-row positions: out[b, at[b] + t] = src[b, t] for t < T,
 * each position holding the same number of values (the trailing dims may differ in shape, not in size). The KV
 * cache's append of one step's keys or values at each row's length, in one kernel call. Returns out.
 * `headMajor`: src (B, T, H, ...) into out (B, H, S, ...), out[b, h, at[b] + t] = src[b, t, h] (the head-major
 * KV cache, (B, Hkv, S, D)), the same number of values per (position, head) on both sides.
 */
export function copyAt(src: Tensor, out: Tensor, at: readonly number[] | Int32Array, opts: { headMajor?: boolean } = {}): Tensor {
  const device = sameDevice('copyAt', src, out);
  if (src.dtype !== out.dtype) throw new Error(`copyAt: src is ${src.dtype}, out is ${out.dtype}`);
  const headMajor = opts.headMajor ?? false;
  const minRank = headMajor ? 3 : 2;
  if (src.rank < minRank || out.rank < minRank) {
    const want = headMajor ? '(B, T, H, ...) and (B, H, S, ...)' : '(B, T, ...) and (B, S, ...)';
    throw new Error(`copyAt: src and out must be ${want}, got [${src.shape.join(', ')}] and [${out.shape.join(', ')}]`);
  }
  const [B, T] = src.shape;
  const heads = headMajor ? src.shape[2] : 1;
  if (headMajor && out.shape[1] !== heads) {
    throw new Error(
      `copyAt: headMajor src has ${heads} heads (dim 2), out ${out.shape[1]} (dim 1): [${src.shape.join(', ')}] -> [${out.shape.join(', ')}]`,
    );
  }
  const S = out.shape[headMajor ? 2 : 1];
  if (out.shape[0] !== B) throw new Error(`copyAt: src has ${B} rows, out ${out.shape[0]}`);
  const per = (t: Tensor, lead: number) => (lead === 0 ? 0 : t.size / lead); // values per (position, head)
  const srcPer = per(src, B * T * heads);
  const outPer = per(out, B * S * heads);
  if (srcPer !== outPer && B * T > 0) {
    throw new Error(
      `copyAt: src holds ${srcPer} values per ${headMajor ? '(position, head)' : 'position'}, out ${outPer} (shapes [${src.shape.join(', ')}] and [${out.shape.join(', ')}])`,
    );
  }
  if (at.length !== B) throw new Error(`copyAt: at has ${at.length} positions for ${B} rows`);
  for (let b = 0; b < B; b++) {
    if (!(Number.isInteger(at[b]) && at[b] >= 0 && at[b] + T <= S)) {
      throw new Error(`copyAt: at[${b}] = ${at[b]} does not leave room for ${T} positions in ${S} (needs 0 <= at <= ${S - T})`);
    }
  }
  if (src.overlaps(out)) throw new Error(`copyAt: src and out overlap in one storage (offsets ${src.offset} and ${out.offset})`);
  if (src.size > 0) getKernel('copyAtForward', device)({ src, out, at: Int32Array.from(at), heads });
  return out;
}

/** out[i] = value for every element (an integer for i32 tensors); returns out. */
export function fill(out: Tensor, value: number): Tensor {
  if (out.dtype === 'i32' && !Number.isInteger(value)) throw new Error(`fill: an i32 tensor needs an integer value, got ${value}`);
  if (out.size > 0) getKernel('fillForward', out.device)({ out, value });
  return out;
}
