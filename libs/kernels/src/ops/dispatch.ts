// Kernel lookup for the ops. Host devices share memory, so a kernel the `cpu` backend does not (yet) have
// runs as its `ref` version on the same arrays, with one warning per kernel; other devices must have it.
// Not used by the conformance suite, which asks the registry directly so a fallback is never "tested".
import { getKernel, hasKernel, type KernelName } from '../registry';
import type { KernelSignatures } from '../kernel-signatures';
import type { Device } from '../tensor';

const warned = new Set<string>();

export function kernel<K extends KernelName>(name: K, device: Device): KernelSignatures[K] {
  if (device === 'cpu' && !hasKernel(name, 'cpu') && hasKernel(name, 'ref')) {
    if (!warned.has(name)) {
      warned.add(name);
      console.warn(`@lwz/kernels: no cpu ${name} kernel, running the ref kernel on the same host arrays`);
    }
    return getKernel(name, 'ref');
  }
  return getKernel(name, device);
}
