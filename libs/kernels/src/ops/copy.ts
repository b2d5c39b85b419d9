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

/** out[i] = value for every element (an integer for i32 tensors); returns out. */
export function fill(out: Tensor, value: number): Tensor {
  if (out.dtype === 'i32' && !Number.isInteger(value)) throw new Error(`fill: an i32 tensor needs an integer value, got ${value}`);
  if (out.size > 0) getKernel('fillForward', out.device)({ out, value });
  return out;
}
