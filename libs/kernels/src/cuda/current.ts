// The started cuda addon, shared by the backend (device.ts, which sets it) and the kernel table (kernels.ts,
// which calls it). Kernels only run on cuda tensors, and those only exist once the backend started.
import type { CudaAddon } from './native';

let current: CudaAddon | null = null;

export function setCudaAddon(addon: CudaAddon): void {
  current = addon;
}

export function cudaAddon(): CudaAddon {
  if (!current) throw new Error('the cuda backend has not started (no cuda tensor can exist yet)');
  return current;
}
