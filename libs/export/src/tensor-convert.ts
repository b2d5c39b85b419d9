// Element conversions the exporters share: f32 -> IEEE binary16 (round to nearest even), a 2-D transpose,
// and the q/k row permutation llama.cpp's "llama" architecture expects (its RoPE pairs adjacent elements,
// Hugging Face's rotate-half pairs i with i + D/2). Pure functions on flat arrays; no file formats here.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary16 bits of `v` rounded to nearest, ties to even; overflow gives +-Inf, NaN stays NaN. */
export function f32ToF16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half += 1; // a carry into the exponent is correct rounding
  return sign | half;
}

/** The largest magnitude binary16 holds: values from 65520 up round to infinity. */
export const F16_LIMIT = 65504;

/** The first index whose value f16 cannot hold (|x| rounds past F16_LIMIT; infinities and NaN are not counted), or -1. */
export function firstF16Overflow(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a >= 65520 && a !== Infinity) return i;
  }
  return -1;
}

/** Values (N,) as binary16 little-endian bytes (2N,). */
export function toF16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return new Uint8Array(out.buffer);
}

/** Values (N,) as f32 little-endian bytes (4N,): a view, no copy (every platform we run on is little-endian). */
export function toF32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** a (rows, cols) row-major -> (cols, rows) row-major */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * Reorder the rows of a q or k projection (nHeads*D, inner) from rotate-half order (within each head:
 * first halves, then second halves) to interleaved pairs: new row 2i+j of a head = old row j*D/2 + i.
 * `inner` is 1 for a bias vector. This is what llama.cpp's converter does to LlamaForCausalLM q/k.
 */
export function permuteRotaryRows(w: Float32Array, nHeads: number, inner: number): Float32Array {
  const D = w.length / inner / nHeads;
  if (!Number.isInteger(D) || D % 2 !== 0)
    throw new Error(`permuteRotaryRows: ${w.length} values do not split into ${nHeads} heads of even size`);
  const half = D / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * D + j * half + i) * inner;
        const dst = (h * D + 2 * i + j) * inner;
        out.set(w.subarray(src, src + inner), dst);
      }
    }
  }
  return out;
}
