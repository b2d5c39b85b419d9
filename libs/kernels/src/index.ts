// @lwz/kernels: tensors, backends (`ref` truth, `cpu` native addon, `cuda`), and the ops built on them.
import './ref/index';

export { Tensor, tidy, sizeOf, type Device, type DType, type HostArray, type Storage } from './tensor';
export { zeros, tensor, toDevice, type CreateOptions } from './create';
export {
  getBackend,
  tryBackend,
  backendStatus,
  availableDevices,
  defaultDevice,
  type Backend,
  type BackendStatus,
} from './backend';
export { getKernel, hasKernel, registeredKernels, registerKernel, type KernelName } from './registry';
export type { KernelSignatures, MatmulArgs, AttentionArgs, ElementwiseArgs } from './kernel-signatures';
export { matmul, type MatmulOptions } from './ops/matmul';
