// Kernel registry: one implementation of each named kernel per device. Registering a name twice for one
// device throws; asking for a kernel a device lacks names the devices that have it.
import type { Device } from './tensor';
import type { KernelSignatures } from './kernel-signatures';
import { profiled } from './profile';

export type KernelName = keyof KernelSignatures;

const kernels = new Map<string, KernelSignatures[KernelName]>();

export function registerKernel<K extends KernelName>(name: K, device: Device, fn: KernelSignatures[K]): void {
  const key = `${device}/${name}`;
  if (kernels.has(key)) throw new Error(`kernel ${name} is already registered for device ${device}`);
  kernels.set(key, fn);
}

export function hasKernel(name: KernelName, device: Device): boolean {
  return kernels.has(`${device}/${name}`);
}

export function getKernel<K extends KernelName>(name: K, device: Device): KernelSignatures[K] {
  const fn = kernels.get(`${device}/${name}`);
  if (!fn) {
    const have = [...kernels.keys()].filter((k) => k.endsWith(`/${name}`)).map((k) => k.split('/')[0]);
    throw new Error(`no ${name} kernel for device ${device}; registered for: ${have.join(', ') || 'none'}`);
  }
  return profiled(name, fn as KernelSignatures[K]);
}

export function registeredKernels(device: Device): KernelName[] {
  return [...kernels.keys()].filter((k) => k.startsWith(`${device}/`)).map((k) => k.slice(device.length + 1) as KernelName);
}
