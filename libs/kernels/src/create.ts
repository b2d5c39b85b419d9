// Creating tensors on a device: zeros, from host values, and copies between devices.
import { getBackend, defaultDevice } from './backend';
import { Tensor, sizeOf, type Device, type DType, type HostArray } from './tensor';

export interface CreateOptions {
  device?: Device;
  dtype?: DType;
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  const device = opts.device ?? defaultDevice();
  const dtype = opts.dtype ?? 'f32';
  return new Tensor(dtype, shape, device, getBackend(device).alloc(dtype, sizeOf(shape)));
}

/**
 * A tensor whose values are unspecified: for an output that is written whole before anything reads it (a
 * GEMM's C without accumulation, a copy's destination). On cpu a recycled buffer comes as it was left, which
 * saves the zero-fill (about 1 GiB per GRPO update of the embedded default); fresh memory is still zero.
 * Reading it before writing it is a bug: tests run with LWZ_HOST_POOL_POISON=1 to catch that.
 */
export function empty(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  const device = opts.device ?? defaultDevice();
  const dtype = opts.dtype ?? 'f32';
  return new Tensor(dtype, shape, device, getBackend(device).alloc(dtype, sizeOf(shape), true));
}

/**
 * A tensor holding `values`. A typed array of the right type is adopted without copying on host devices
 * (the tensor then shares it); plain arrays are converted.
 */
export function tensor(values: HostArray | readonly number[], shape: readonly number[], opts: CreateOptions = {}): Tensor {
  const device = opts.device ?? defaultDevice();
  const dtype = opts.dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
  let array: HostArray;
  if (dtype === 'f32') array = values instanceof Float32Array ? values : Float32Array.from(values);
  else array = values instanceof Int32Array ? values : Int32Array.from(values);
  if (array.length !== sizeOf(shape)) {
    throw new Error(`tensor(): ${array.length} values do not fill shape [${shape.join(', ')}]`);
  }
  return new Tensor(dtype, shape, device, getBackend(device).upload(array));
}

/**
 * A zero-filled Float32Array to fill and then adopt with tensor() on `device` (a loader's weights): on cpu laid
 * out as its tensors are (cache-line aligned; from 2 MiB on a 2 MiB boundary, on transparent huge pages;
 * backend.ts alignedHostArray), so adopted weights stream as fast as allocated tensors; a plain array elsewhere
 * (a device backend copies it on upload anyway).
 */
export function newHostF32(size: number, opts: { device?: Device } = {}): Float32Array {
  const array = getBackend(opts.device ?? defaultDevice()).hostArray?.('f32', size);
  return array instanceof Float32Array ? array : new Float32Array(size);
}

/** Copy a tensor to another device (always a copy, even to the same device). */
export function toDevice(t: Tensor, device: Device): Tensor {
  const host = t.toHost();
  const copy = host instanceof Float32Array ? new Float32Array(host) : new Int32Array(host);
  return tensor(copy, t.shape, { device, dtype: t.dtype });
}
