// The `cpu` backend: host memory (shared zero-copy with the native addon) plus native kernels. When the addon
// cannot load, the backend reports itself unavailable (one warning) and the library keeps working on `ref`.
// Kernels register only for entry points the loaded addon has.
import { hostBackend, registerBackend, type Backend } from '../backend';
import { registerKernel } from '../registry';
import { cpuKernels } from './kernels';
import { loadAddon, type AddonLoad } from './native';

/** The backend factory for a load result: a host backend describing the addon, or why it is unavailable. */
export function cpuBackendFactory(load: AddonLoad, warn: (msg: string) => void): () => Backend | { unavailable: string } {
  return () => {
    if ('error' in load) {
      warn(`@lwz/kernels: cpu backend unavailable, using ref: ${load.error}`);
      return { unavailable: load.error };
    }
    const { isa, threads } = load.addon.info();
    return hostBackend('cpu', `cpu: native addon, ${isa}, ${threads} thread${threads === 1 ? '' : 's'}`);
  };
}

const load = loadAddon();
registerBackend(
  'cpu',
  cpuBackendFactory(load, (msg) => console.warn(msg)),
);
if ('addon' in load) {
  for (const [name, fn] of cpuKernels(load.addon)) registerKernel(name, 'cpu', fn as never);
}
