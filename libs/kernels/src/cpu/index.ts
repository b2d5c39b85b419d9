// The `cpu` backend: host memory (shared zero-copy with the native addon) plus native kernels. Nothing loads
// at import: the addon is loaded when the backend first starts (first cpu tensor, availableDevices(), ...).
// When the addon cannot load, the backend reports itself unavailable (one warning) and the library keeps
// working on `ref` (REQUIRE_NATIVE=1 turns that into an error, backend.ts). An addon that loads but lacks
// a kernel's entry point is a broken build: starting the backend throws, naming the kernels and the fix.
import { addonHostMemory, hostBackend, registerBackend, type Backend } from '../backend';
import { HostPool, poolCapFromEnv, poolPoisonFromEnv } from '../host-pool';
import { registerKernel } from '../registry';
import { setupBlas, type BlasSetup } from './blas';
import { cpuKernels, missingEntryPoints } from './kernels';
import { loadAddon, type AddonLoad, type NativeAddon } from './native';
import { applyGemmTuning } from './tune';

/**
 * The backend factory: on its first call it runs `load` and returns a host backend describing the addon
 * (registering every cpu kernel through `register`, then setting up the optional system BLAS through `blas`),
 * or why it is unavailable.
 */
export function cpuBackendFactory(
  load: () => AddonLoad,
  warn: (msg: string) => void,
  register: (entries: ReturnType<typeof cpuKernels>) => void = () => undefined,
  blas: (addon: NativeAddon) => BlasSetup | undefined = () => undefined,
): () => Backend | { unavailable: string } {
  return () => {
    const loaded = load();
    if ('error' in loaded) {
      warn(`@lwz/kernels: cpu backend unavailable, using ref: ${loaded.error}`);
      return { unavailable: loaded.error };
    }
    const missing = missingEntryPoints(loaded.addon);
    if (missing.length) {
      throw new Error(
        `${loaded.path} lacks the cpu kernels ${missing.join(', ')} (built from older sources?); ` +
          'rebuild it with `npx nx run kernels:build-native`',
      );
    }
    register(cpuKernels(loaded.addon));
    const { isa, threads, isaNote } = loaded.addon.info();
    if (isaNote) warn(`@lwz/kernels: ${isaNote}`);
    const setup = blas(loaded.addon);
    const lib = setup?.library ? `, system BLAS ${setup.library} for ${setup.routed} of ${setup.points.length} calibrated shapes` : '';
    const memory = addonHostMemory(loaded.addon);
    const cap = poolCapFromEnv();
    const pool = cap > 0 ? new HostPool(cap, poolPoisonFromEnv()) : undefined;
    return hostBackend('cpu', `cpu: native addon, ${isa}, ${threads} thread${threads === 1 ? '' : 's'}${lib}`, memory, pool);
  };
}

registerBackend(
  'cpu',
  cpuBackendFactory(
    () => loadAddon(),
    (msg) => console.warn(msg),
    (entries) => {
      for (const [name, fn] of entries) registerKernel(name, 'cpu', fn as never);
    },
    (addon) => {
      // this machine's GEMM tuning first (if `nx run kernels:tune` cached one), so the BLAS calibration times it
      applyGemmTuning(addon, (msg) => console.warn(msg));
      return setupBlas(addon, (msg) => console.warn(msg));
    },
  ),
);
