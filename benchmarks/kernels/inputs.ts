// Inputs for kernel benchmarks: seeded random tensors on the benchmark device, allocated as the backend
// allocates a kernel's outputs (so with the same alignment as in a train step), and the check that turns a
// kernel a device lacks into a visible skip. Not a test fixture: values only need to be finite and varied.
import { Rng } from '@lwz/core';
import { hasKernel, isHostDevice, tensor, zeros, type KernelName, type Tensor } from '@lwz/kernels';
import type { Device, Skip } from '../suite';

/**
 * Uniform values in [-scale, scale). On a host device the values are written into the backend's own
 * allocation (64-byte aligned, backend.ts alignedHostArray), not adopted from a plain Float32Array, whose data V8
 * starts 16 bytes past a cache line: every activation and gradient of a train step is an op's output, so
 * aligned, and adopted arrays timed the RMSNorm backward 1.2-2x slower than the tensors it really gets
 * (benchmarks/README.md, branch membound4).
 */
export function randomTensor(shape: readonly number[], rng: Rng, device: Device, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const host = isHostDevice(device) ? zeros(shape, { device }) : undefined;
  const values = host ? host.f32 : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng.next() * 2 - 1) * scale;
  return host ?? tensor(values, shape, { device });
}

/** n zero f32 values in `device`'s host allocation (64-byte aligned on cpu), or a plain array off the host. */
export function hostArray(n: number, device: Device): Float32Array {
  return isHostDevice(device) ? zeros([n], { device }).f32 : new Float32Array(n);
}

export function zerosOn(shape: readonly number[], device: Device, dtype: 'f32' | 'i32' = 'f32'): Tensor {
  return zeros(shape, { device, dtype });
}

/** A skip naming the kernels `device` lacks, or null when all are registered. */
export function missingKernels(names: readonly KernelName[], device: Device): Skip | null {
  const missing = names.filter((n) => !hasKernel(n, device));
  return missing.length ? { skip: `no ${missing.join(', ')} kernel registered for device ${device} yet` } : null;
}

export function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}
