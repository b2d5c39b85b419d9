// Backends: a device name plus how to get memory on it. A backend that cannot start (no native addon, no
// GPU) reports why and is skipped, never crashing the import. Kernels register separately (registry.ts).
import { hostStorage, type Device, type DType, type HostArray, type Storage } from './tensor';

export interface Backend {
  readonly device: Device;
  /** One line for logs: what runs, with which features (e.g. "cpu: native addon, AVX2+FMA, 2 threads"). */
  readonly description: string;
  /** Zero-filled memory for `size` values. */
  alloc(dtype: DType, size: number): Storage;
  /** Storage holding `array`'s values: host devices adopt the array itself (zero-copy), devices copy. */
  upload(array: HostArray): Storage;
  /**
   * Wait until every kernel queued on this device has finished (device backends queue work asynchronously;
   * time GPU work between two calls). Also raises errors a kernel reported on the device. No-op on host backends.
   */
  synchronize(): void;
}

export interface BackendStatus {
  device: Device;
  available: boolean;
  detail: string; // description when available, reason when not
}

type Factory = () => Backend | { unavailable: string };

const factories = new Map<Device, Factory>();
const started = new Map<Device, Backend | { unavailable: string }>();

export function registerBackend(device: Device, factory: Factory): void {
  if (factories.has(device)) throw new Error(`backend ${device} is already registered`);
  factories.set(device, factory);
}

function start(device: Device): Backend | { unavailable: string } {
  let b = started.get(device);
  if (!b) {
    const factory = factories.get(device);
    b = factory ? factory() : { unavailable: 'not built into this installation' };
    started.set(device, b);
  }
  return b;
}

export function tryBackend(device: Device): Backend | null {
  const b = start(device);
  return 'unavailable' in b ? null : b;
}

export function getBackend(device: Device): Backend {
  const b = start(device);
  if ('unavailable' in b) throw new Error(`backend ${device} is unavailable: ${b.unavailable}`);
  return b;
}

export function backendStatus(): BackendStatus[] {
  return (['ref', 'cpu', 'cuda'] as const).map((device) => {
    const b = start(device);
    return 'unavailable' in b ? { device, available: false, detail: b.unavailable } : { device, available: true, detail: b.description };
  });
}

export function availableDevices(): Device[] {
  return backendStatus()
    .filter((s) => s.available)
    .map((s) => s.device);
}

/** LWZ_DEVICE if set, else `cpu` when the native addon loaded, else `ref`. */
export function defaultDevice(): Device {
  const env = process.env.LWZ_DEVICE;
  if (env) {
    if (env !== 'ref' && env !== 'cpu' && env !== 'cuda') {
      throw new Error(`LWZ_DEVICE=${env} is not a device; use ref, cpu or cuda`);
    }
    getBackend(env);
    return env;
  }
  return tryBackend('cpu') ? 'cpu' : 'ref';
}

/** Host memory backend shared by `ref` and `cpu` (they differ in kernels, not in memory). */
export function hostBackend(device: 'ref' | 'cpu', description: string): Backend {
  return {
    device,
    description,
    alloc: (dtype, size) => hostStorage(dtype === 'f32' ? new Float32Array(size) : new Int32Array(size)),
    upload: (array) => hostStorage(array),
    synchronize: () => undefined,
  };
}
