// The `cpu` backend: host memory (shared zero-copy with the native addon) plus native kernels. When the addon
// cannot load, the backend reports itself unavailable (one warning) and the library keeps working on `ref`.
// Kernels register only for entry points the loaded addon has.
import { hostBackend, registerBackend, type Backend } from '../backend';
import { registerKernel } from '../registry';
import { setupBlas, type BlasSetup } from './blas';
import { cpuKernels } from './kernels';
import { loadAddon, type AddonLoad } from './native';

/** The backend factory for a load result: a host backend describing the addon, or why it is unavailable. */
export function cpuBackendFactory(load: AddonLoad, warn: (msg: string) => void, blas?: BlasSetup): () => Backend | { unavailable: string } {
  return () => {
    if ('error' in load) {
      warn(`@lwz/kernels: cpu backend unavailable, using ref: ${load.error}`);
      return { unavailable: load.error };
    }
    const { isa, threads, isaNote } = load.addon.info();
    if (isaNote) warn(`@lwz/kernels: ${isaNote}`);
    const lib = blas?.library ? `, system BLAS ${blas.library} for ${blas.routed} of ${blas.points.length} calibrated shapes` : '';
    return hostBackend('cpu', `cpu: native addon, ${isa}, ${threads} thread${threads === 1 ? '' : 's'}${lib}`);
  };
}

const load = loadAddon();
const blas = 'addon' in load ? setupBlas(load.addon, (msg) => console.warn(msg)) : undefined;
registerBackend(
  'cpu',
  cpuBackendFactory(load, (msg) => console.warn(msg), blas),
);
if ('addon' in load) {
  for (const [name, fn] of cpuKernels(load.addon)) registerKernel(name, 'cpu', fn as never);
}
