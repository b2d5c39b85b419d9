// Kernel registry: one implementation of each named kernel per device. Registering a name twice for one
// device throws; asking for a kernel a device lacks names the devices that have it. Internal to
// libs/kernels: everything outside reaches kernels through the checked ops (ops/*.ts). A device's kernels
// register when its backend starts (first use), so a lookup starts the backend first.
import { tryBackend } from './backend';
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
  tryBackend(device);
  return kernels.has(`${device}/${name}`);
}

export function getKernel<K extends KernelName>(name: K, device: Device): KernelSignatures[K] {
  let fn = kernels.get(`${device}/${name}`);
  if (!fn) {
    tryBackend(device);
    fn = kernels.get(`${device}/${name}`);
  }
  if (!fn) {
    const have = [...kernels.keys()].filter((k) => k.endsWith(`/${name}`)).map((k) => k.split('/')[0]);
    throw new Error(`no ${name} kernel for device ${device}; registered for: ${have.join(', ') || 'none'}`);
  }
  return profiled(name, fn as KernelSignatures[K]);
}

/**
 * Test support (src/testing/): replace `device`'s kernels with `table` until the returned function
 * restores the previous ones. Not exported from the package entry point.
 */
export function swapKernels(device: Device, table: Partial<KernelSignatures>): () => void {
  const before = new Map([...kernels].filter(([k]) => k.startsWith(`${device}/`)));
  for (const k of before.keys()) kernels.delete(k);
  for (const [name, fn] of Object.entries(table)) kernels.set(`${device}/${name}`, fn as KernelSignatures[KernelName]);
  return () => {
    for (const k of [...kernels.keys()]) if (k.startsWith(`${device}/`)) kernels.delete(k);
    for (const [k, fn] of before) kernels.set(k, fn);
  };
}

export function registeredKernels(device: Device): KernelName[] {
  tryBackend(device);
  return [...kernels.keys()].filter((k) => k.startsWith(`${device}/`)).map((k) => k.slice(device.length + 1) as KernelName);
}
