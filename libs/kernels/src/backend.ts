// Backends: a device name plus how to get memory on it. A backend starts on first use (its factory runs
// then, loading any native addon); one that cannot start (no native addon, no GPU) reports why and is
// skipped, never crashing the import. REQUIRE_NATIVE=1 / REQUIRE_CUDA=1 make cpu / cuda mandatory: a
// backend that cannot start then throws, so no test or run can quietly fall back to `ref`.
// Kernels register separately (registry.ts).
import { UserError } from '@lwz/core';
import { POOL_MIN_VALUES, PooledStorage, poolCapacity, type HostPool } from './host-pool';
import { DEVICES, hostStorage, isDevice, type Device, type DType, type HostArray, type Storage } from './tensor';

export interface Backend {
  readonly device: Device;
  /** One line for logs: what runs, with which features (e.g. "cpu: native addon, AVX2+FMA, 2 threads"). */
  readonly description: string;
  /**
   * Zero-filled memory for `size` values; with `uninit`, memory whose contents are unspecified (a recycled
   * buffer is handed out as it was left), for an output the caller overwrites whole (`empty`). Backends that
   * do not recycle may ignore the flag.
   */
  alloc(dtype: DType, size: number, uninit?: boolean): Storage;
  /** Storage holding `array`'s values: host devices adopt the array itself (zero-copy), devices copy. */
  upload(array: HostArray): Storage;
  /**
   * Host backends: a zero-filled array laid out as this backend's tensors are (cpu: aligned, large ones on
   * huge pages), to fill and then adopt through `upload` (a loader's weights). Not pooled.
   */
  hostArray?(dtype: DType, size: number): HostArray;
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

/** A factory returns the started backend or why it is unavailable; it throws for a broken installation. */
type Factory = () => Backend | { unavailable: string };
type Started = Backend | { unavailable: string } | { error: Error };

/** The environment variable that makes a device mandatory (set to 1). */
const REQUIRED_BY: Partial<Record<Device, string>> = { cpu: 'REQUIRE_NATIVE', cuda: 'REQUIRE_CUDA' };

const factories = new Map<Device, Factory>();
const started = new Map<Device, Started>();

export function registerBackend(device: Device, factory: Factory): void {
  if (factories.has(device)) throw new Error(`backend ${device} is already registered`);
  factories.set(device, factory);
}

/** Devices that must be available in this process (REQUIRE_NATIVE=1 -> cpu, REQUIRE_CUDA=1 -> cuda). */
export function requiredDevices(): Device[] {
  return DEVICES.filter((d) => {
    const env = REQUIRED_BY[d];
    return env !== undefined && process.env[env] === '1';
  });
}

/** Starts `device` once (its factory's result is kept); throws for a broken installation. */
function startOnce(device: Device): Backend | { unavailable: string } {
  let b = started.get(device);
  if (!b) {
    const factory = factories.get(device);
    try {
      b = factory ? factory() : { unavailable: 'not built into this installation' };
    } catch (e) {
      b = { error: e as Error };
    }
    started.set(device, b);
  }
  if ('error' in b) throw b.error;
  return b;
}

function start(device: Device): Backend | { unavailable: string } {
  const b = startOnce(device);
  if ('unavailable' in b && requiredDevices().includes(device)) {
    throw new Error(`${REQUIRED_BY[device]}=1 but the ${device} backend is unavailable: ${b.unavailable}`);
  }
  return b;
}

/**
 * Test support (src/testing/): `device` answers with `backend` until the returned function restores
 * whatever it had started as (or leaves it unstarted). Not exported from the package entry point.
 */
export function swapBackend(device: Device, backend: Backend): () => void {
  const had = started.has(device);
  const before = started.get(device);
  started.set(device, backend);
  return () => {
    if (had && before) started.set(device, before);
    else started.delete(device);
  };
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
  return DEVICES.map((device) => {
    const b = start(device);
    return 'unavailable' in b ? { device, available: false, detail: b.unavailable } : { device, available: true, detail: b.description };
  });
}

/**
 * One device's status, without the REQUIRE_* check: for callers that report a missing device themselves
 * (the conformance harness turns a required one into a failing test rather than a crash).
 */
export function deviceStatus(device: Device): BackendStatus {
  const b = startOnce(device);
  return 'unavailable' in b ? { device, available: false, detail: b.unavailable } : { device, available: true, detail: b.description };
}

export function availableDevices(): Device[] {
  return backendStatus()
    .filter((s) => s.available)
    .map((s) => s.device);
}

/**
 * LWZ_DEVICE if set, else `cpu` when the native addon loaded, else `ref`. A value that is no device, or a device
 * that cannot start, is a UserError naming the variable, the accepted values and the reason (the user's setting to
 * fix, not a bug, so no stack trace).
 */
export function defaultDevice(): Device {
  const env = process.env.LWZ_DEVICE;
  if (env) {
    const unset = 'or unset it (then cpu when the native addon loads, else ref)';
    if (!isDevice(env)) throw new UserError(`LWZ_DEVICE=${env} is not a device: set it to one of ${DEVICES.join(', ')}, ${unset}`);
    const b = start(env);
    if ('unavailable' in b)
      throw new UserError(
        `LWZ_DEVICE=${env}, but backend ${env} is unavailable: ${b.unavailable}; set LWZ_DEVICE to another device, ${unset}`,
      );
    return env;
  }
  return tryBackend('cpu') ? 'cpu' : 'ref';
}

/** Values from which host allocations are cache-line aligned: below it the 64 spare bytes are not worth it. */
export const ALIGN_MIN_VALUES = 1024;

/** A transparent huge page (x86-64). */
export const HUGE_PAGE_BYTES = 2 * 2 ** 20;

/**
 * Bytes from which a host allocation starts on a 2 MiB boundary and its whole 2 MiB pages are marked for
 * transparent huge pages (native/hugepages.cpp; #10, #15): one huge page, the least that can hold one. The
 * cost is 2 MiB of address space per allocation for the alignment, never touched (no resident memory), and
 * no huge page reaches past the tensor's end, so resident memory does not grow; the tail past the last
 * whole 2 MiB stays on 4 KiB pages.
 */
export const HUGE_MIN_BYTES = HUGE_PAGE_BYTES;

/** What the cpu backend's addon offers host allocation (native/introspect.cpp, native/hugepages.cpp). */
export interface HostMemory {
  /** The address of the buffer's first byte modulo `modulus` (a power of two). */
  misalign(buffer: ArrayBuffer, modulus: number): number;
  /**
   * Mark the whole 2 MiB pages of [offset, offset + bytes) of a fresh zero-filled buffer for huge pages before
   * first touch (pages malloc recycled are dropped: they read as zeros again); bytes marked.
   */
  adviseHugePages?(buffer: ArrayBuffer, offset: number, bytes: number): number;
}

/**
 * The cpu addon's host-allocation hooks as a HostMemory: alignment, and (`huge`, default on) the huge-page mark
 * of large arrays. Undefined for a build without bufferMisalign (plain arrays then).
 */
export function addonHostMemory(
  addon: {
    bufferMisalign?(buffer: ArrayBuffer, modulus?: number): number;
    adviseHugePages?(buffer: ArrayBuffer, offset: number, bytes: number): number;
  },
  huge = true,
): HostMemory | undefined {
  const misalign = addon.bufferMisalign?.bind(addon);
  return misalign && { misalign, adviseHugePages: huge ? addon.adviseHugePages?.bind(addon) : undefined };
}

/**
 * A zero-filled host array laid out for the native kernels, given `memory` (the cpu backend's addon). From
 * ALIGN_MIN_VALUES its first value sits on a 64-byte boundary: V8 starts a large ArrayBuffer's data 16 bytes
 * past a cache line, so each 64-byte vector load of a plain Float32Array touches two lines (measured on the
 * decode attention: about 25 % slower with its data in cache, #10). From HUGE_MIN_BYTES it starts on a 2 MiB
 * boundary and its 2 MiB pages are marked for huge pages while still untouched (V8's zero-filled
 * ArrayBuffer of that size is a fresh mapping: glibc's calloc does not write it; hugepages.cpp keeps it so).
 * The array is a view at an offset into a longer buffer; code that reads `.buffer` must honour `byteOffset`
 * (all of ours does).
 */
export function alignedHostArray(dtype: DType, size: number, memory?: HostMemory): HostArray {
  const Ctor = dtype === 'f32' ? Float32Array : Int32Array;
  if (!memory || size < ALIGN_MIN_VALUES) return new Ctor(size);
  const bytes = size * 4;
  const align = bytes >= HUGE_MIN_BYTES ? HUGE_PAGE_BYTES : 64;
  const buffer = new ArrayBuffer(bytes + align); // V8 places its data at least 8-byte aligned: the skip is whole values
  const offset = (align - memory.misalign(buffer, align)) % align;
  // the layout above does not depend on LWZ_HUGEPAGES: an A/B of the switch compares the pages alone
  if (align === HUGE_PAGE_BYTES) memory.adviseHugePages?.(buffer, offset, bytes);
  return new Ctor(buffer, offset, size);
}

/**
 * A new array for the pool: `size` values at the start of a buffer laid out (alignedHostArray) for its capacity
 * class, poolCapacity(size), so that a later allocation of any size of that class can reuse it. Huge pages
 * are asked for over the capacity's whole 2 MiB pages; only those the tensor touches become resident.
 */
function pooledHostArray(dtype: DType, size: number, memory?: HostMemory): HostArray {
  const capacity = poolCapacity(size);
  const array = alignedHostArray(dtype, capacity, memory);
  return capacity === size ? array : array.subarray(0, size);
}

/**
 * Host memory backend shared by `ref` and `cpu` (they differ in kernels, not in memory). `memory` (the cpu
 * backend's addon) aligns large allocations and gives them huge pages; `pool` (the cpu backend) recycles the
 * memory of disposed tensors that was never handed out (host-pool.ts), huge pages included.
 */
export function hostBackend(device: 'ref' | 'cpu', description: string, memory?: HostMemory, pool?: HostPool): Backend {
  return {
    device,
    description,
    alloc: (dtype, size, uninit = false) => {
      if (!pool || size < POOL_MIN_VALUES) return hostStorage(alignedHostArray(dtype, size, memory));
      return new PooledStorage(pool.take(dtype, size, !uninit) ?? pooledHostArray(dtype, size, memory), dtype, pool);
    },
    hostArray: (dtype, size) => alignedHostArray(dtype, size, memory),
    upload: (array) => hostStorage(array),
    synchronize: () => undefined,
  };
}
