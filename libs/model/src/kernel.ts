// Kernel lookup for the model: the device's own kernel when registered, else (for `cpu`, which shares host
// memory with `ref`) the `ref` kernel, so the model runs while the native backend fills in its op set.
// Not an op wrapper: callers allocate outputs, as the kernel contract says.
import { getKernel, hasKernel, type Device, type KernelName, type KernelSignatures } from '@lwz/kernels';

export function kernel<K extends KernelName>(name: K, device: Device): KernelSignatures[K] {
  if (!hasKernel(name, device) && device === 'cpu' && hasKernel(name, 'ref')) return getKernel(name, 'ref');
  return getKernel(name, device);
}
