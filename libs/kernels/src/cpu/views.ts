// Host arrays of tensors for one native call (Tensor.kernelData): unlike `.f32` / `.i32` / `.data` they do not
// mark the memory as handed out, so the backend's pool may recycle it once the tensor is disposed. The
// kernel wrappers pass them to the addon and keep nothing.
import type { Tensor } from '../tensor';

export function f32(t: Tensor): Float32Array {
  if (t.dtype !== 'f32') throw new Error(`expected an f32 tensor, got ${t.dtype}`);
  return t.kernelData() as Float32Array;
}

export function i32(t: Tensor): Int32Array {
  if (t.dtype !== 'i32') throw new Error(`expected an i32 tensor, got ${t.dtype}`);
  return t.kernelData() as Int32Array;
}

export function raw(t: Tensor): Float32Array | Int32Array {
  return t.kernelData();
}
