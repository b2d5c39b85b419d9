// The cuda backend's start-up and memory: init() on first use (LWZ_CUDA_DEVICE picks the GPU, default 0), the
// reason when it cannot start (no addon, no driver, no device, too old a GPU), device storage from the addon's
// caching allocator (zero-filled, freed on dispose or, as a backstop, when the storage is garbage collected;
// every element is 4 bytes, so a view at element offset o starts o * 4 bytes into it),
// and device-side errors (bad ids) raised at the next synchronisation. Not the kernels (kernels.ts).
import type { Backend } from '../backend';
import type { DType, HostArray, Storage } from '../tensor';
import { setCudaAddon } from './current';
import { cudaKernels } from './kernels';
import type { CudaAddon, CudaAddonLoad } from './native';

const DEVICE_ERRORS: [number, string][] = [
  [1, 'an embedding id outside [0, V) (embeddingForward / embeddingBackward)'],
  [2, 'a target id >= V (tokenLogprobsForward / tokenLogprobsBackward)'],
];

/** Throws when a kernel flagged bad input since the last check (the GPU cannot throw where the CPU does). */
export function raiseDeviceErrors(addon: CudaAddon): void {
  const flags = addon.takeDeviceErrors();
  if (!flags) return;
  const what = DEVICE_ERRORS.filter(([bit]) => flags & bit).map(([, text]) => text);
  throw new Error(`cuda kernels saw ${what.join(' and ')}; the affected rows hold zeros / NaN`);
}

const leaked = new FinalizationRegistry<{ addon: CudaAddon; ptr: number }>(({ addon, ptr }) => {
  try {
    addon.free(ptr);
  } catch {
    // the process is shutting down or the device is gone: nothing left to free
  }
});

function deviceStorage(addon: CudaAddon, dtype: DType, size: number, ptr: number): Storage {
  let freed = false;
  const storage: Storage = {
    host: null,
    handle: ptr,
    length: size,
    read(offset: number, count: number): HostArray {
      if (freed) throw new Error('read of freed cuda memory');
      const out = dtype === 'f32' ? new Float32Array(count) : new Int32Array(count);
      addon.download(ptr + offset * 4, out);
      raiseDeviceErrors(addon);
      return out;
    },
    free(): void {
      if (freed) return;
      freed = true;
      leaked.unregister(storage);
      addon.free(ptr);
    },
  };
  leaked.register(storage, { addon, ptr }, storage);
  return storage;
}

function cudaBackend(addon: CudaAddon, description: string): Backend {
  return {
    device: 'cuda',
    description: `cuda: ${description}`,
    alloc: (dtype, size) => {
      const bytes = size * 4;
      const ptr = addon.alloc(bytes);
      addon.memsetZero(ptr, bytes);
      return deviceStorage(addon, dtype, size, ptr);
    },
    upload: (array) => {
      const ptr = addon.alloc(array.byteLength);
      addon.upload(ptr, array);
      return deviceStorage(addon, array instanceof Float32Array ? 'f32' : 'i32', array.length, ptr);
    },
    synchronize: () => {
      addon.synchronize();
      raiseDeviceErrors(addon);
    },
  };
}

/**
 * The backend factory: starts the device on first use and hands the kernel table to `register`, or says why
 * the device cannot start (kernels of a device that never started are never registered).
 */
export function cudaBackendFactory(
  load: () => CudaAddonLoad,
  register: (entries: ReturnType<typeof cudaKernels>) => void = () => undefined,
): () => Backend | { unavailable: string } {
  return () => {
    const loaded = load();
    if ('error' in loaded) return { unavailable: loaded.error };
    const raw = process.env.LWZ_CUDA_DEVICE ?? '0';
    const device = Number(raw);
    if (!Number.isInteger(device) || device < 0) return { unavailable: `LWZ_CUDA_DEVICE=${raw} is not a device index (0, 1, ...)` };
    try {
      const description = loaded.addon.init(device);
      setCudaAddon(loaded.addon);
      register(cudaKernels());
      return cudaBackend(loaded.addon, description);
    } catch (e) {
      return { unavailable: (e as Error).message.replace(/^init: /, '') };
    }
  };
}
