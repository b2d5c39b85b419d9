// Kernel registry: one implementation of each named kernel per device. Registering a name twice for one
// device throws; asking for a kernel a device lacks names the devices that have it. Internal to
// libs/kernels: everything outside reaches kernels through the checked ops (ops/*.ts). A device's kernels
// register when its backend starts (first use), so a lookup starts the backend first.
import { tryBackend } from './backend';
import type { Device } from './tensor';
import type { KernelSignatures } from './kernel-signatures';
import { profiled } from './profile';

export type KernelName = keyof KernelSignatures;

type AnyKernel = KernelSignatures[KernelName];

// device -> name -> kernel: two map lookups and no key string built per op call (a `${device}/${name}` key made
// getKernel cost 127-243 ns a call on a Zen 5 VM, 46-87 ns this way; a decode step makes dozens of op calls)
const kernels = new Map<Device, Map<KernelName, AnyKernel>>();

function tableOf(device: Device): Map<KernelName, AnyKernel> {
  let table = kernels.get(device);
  if (!table) kernels.set(device, (table = new Map()));
  return table;
}

export function registerKernel<K extends KernelName>(name: K, device: Device, fn: KernelSignatures[K]): void {
  const table = tableOf(device);
  if (table.has(name)) throw new Error(`kernel ${name} is already registered for device ${device}`);
  table.set(name, fn);
}

export function hasKernel(name: KernelName, device: Device): boolean {
  tryBackend(device);
  return kernels.get(device)?.has(name) ?? false;
}

export function getKernel<K extends KernelName>(name: K, device: Device): KernelSignatures[K] {
  let fn = kernels.get(device)?.get(name);
  if (!fn) {
    tryBackend(device);
    fn = kernels.get(device)?.get(name);
  }
  if (!fn) {
    const have = [...kernels].filter(([, table]) => table.has(name)).map(([d]) => d);
    throw new Error(`no ${name} kernel for device ${device}; registered for: ${have.join(', ') || 'none'}`);
  }
  return profiled(name, fn as KernelSignatures[K]);
}

/**
 * Test support (src/testing/): replace `device`'s kernels with `table` until the returned function
 * restores the previous ones. Not exported from the package entry point.
 */
export function swapKernels(device: Device, table: Partial<KernelSignatures>): () => void {
  const current = tableOf(device);
  const before = new Map(current);
  current.clear();
  for (const [name, fn] of Object.entries(table)) current.set(name as KernelName, fn as AnyKernel);
  return () => {
    current.clear();
    for (const [name, fn] of before) current.set(name, fn);
  };
}

export function registeredKernels(device: Device): KernelName[] {
  tryBackend(device);
  return [...(kernels.get(device)?.keys() ?? [])];
}
