// Inputs for kernel benchmarks: seeded random tensors on the benchmark device, and the check that turns a
// kernel a device lacks into a visible skip. Not a test fixture: values only need to be finite and varied.
import { Rng } from '@lwz/core';
import { hasKernel, tensor, zeros, type KernelName, type Tensor } from '@lwz/kernels';
import type { Device, Skip } from '../suite';

/** Uniform values in [-scale, scale). */
export function randomTensor(shape: readonly number[], rng: Rng, device: Device, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng.next() * 2 - 1) * scale;
  return tensor(values, shape, { device });
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
