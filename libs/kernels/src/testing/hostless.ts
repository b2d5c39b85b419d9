// A test device without host memory: `withHostlessDevice(fn)` makes the `cuda` device, for the duration of
// fn, a backend whose storage has no host array (tensor.data throws, as on a GPU) and whose kernels run
// the `ref` kernels on the hidden buffers, honouring each tensor's offset. Code that runs correctly on it
// moves data only through ops (copy, fill, views), never through host arrays: the model and optimizer
// tests use it to prove they are device-agnostic. Restores the real cuda backend (if any) afterwards.
import { swapBackend, type Backend } from '../backend';
import { getKernel, registeredKernels, swapKernels } from '../registry';
import type { KernelSignatures } from '../kernel-signatures';
import { hostStorage, Tensor, type Device, type DType, type HostArray, type Storage } from '../tensor';

const DEVICE: Device = 'cuda';

function deviceStorage(hidden: HostArray): Storage {
  return {
    host: null,
    handle: hidden,
    length: hidden.length,
    read: (offset, size) => hidden.slice(offset, offset + size), // a copy, as a device download is
    free: () => undefined,
  };
}

const backend: Backend = {
  device: DEVICE,
  description: 'hostless test device: ref kernels on storage without host views',
  alloc: (dtype: DType, size: number) => deviceStorage(dtype === 'f32' ? new Float32Array(size) : new Int32Array(size)),
  upload: (array: HostArray) => deviceStorage(array.slice()),
  synchronize: () => undefined,
};

/** A ref-device tensor over the same hidden buffer and range as a hostless tensor. */
function hostTwin(t: Tensor): Tensor {
  return new Tensor(t.dtype, t.shape, 'ref', hostStorage(t.handle as HostArray), t.offset);
}

function wrap(name: keyof KernelSignatures): (args: Record<string, unknown>) => unknown {
  const ref = getKernel(name, 'ref') as unknown as (args: Record<string, unknown>) => unknown;
  return (args) => {
    const twins = Object.fromEntries(
      Object.entries(args).map(([k, v]) => [k, v instanceof Tensor && v.device === DEVICE ? hostTwin(v) : v]),
    );
    return ref(twins);
  };
}

/** Run `fn(device)` with `device` a hostless backend running the ref kernels; restores everything after. */
export function withHostlessDevice<R>(fn: (device: Device) => R): R {
  const table = Object.fromEntries(registeredKernels('ref').map((name) => [name, wrap(name)])) as Partial<KernelSignatures>;
  const restoreBackend = swapBackend(DEVICE, backend);
  const restoreKernels = swapKernels(DEVICE, table);
  try {
    return fn(DEVICE);
  } finally {
    restoreKernels();
    restoreBackend();
  }
}
