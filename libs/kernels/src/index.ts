// @lwz/kernels: tensors, backends (`ref` truth, `cpu` native addon, `cuda`), and the checked ops built on
// them: the only way into the kernels from outside this library (the registry is internal).
import './ref/index';
import './cpu/index';
import './cuda/index';

export { Tensor, tidy, sizeOf, isDevice, isHostDevice, DEVICES, type Device, type DType, type HostArray, type Storage } from './tensor';
export { zeros, empty, tensor, toDevice, newHostF32, type CreateOptions } from './create';
export {
  getBackend,
  tryBackend,
  backendStatus,
  availableDevices,
  defaultDevice,
  requiredDevices,
  type Backend,
  type BackendStatus,
} from './backend';
export { hasKernel, registeredKernels, type KernelName } from './registry';
export type { KernelSignatures, MatmulArgs, AttentionArgs, ElementwiseArgs, PackedMatrix } from './kernel-signatures';
export { copy, copyAt, fill } from './ops/copy';
export { matmul, type MatmulOptions } from './ops/matmul';
export { packMatmulB } from './ops/packed';
export { add, mul, scale, axpy } from './ops/elementwise';
export { sumRows } from './ops/sum-rows';
export { embedding, embeddingBackward } from './ops/embedding';
export { rmsnorm, rmsnormBackward } from './ops/rmsnorm';
export { rope, type RopeOptions } from './ops/rope';
export { attention, attentionBackward, type AttentionOptions } from './ops/attention';
export { kvShape, type KvLayout } from './kv-layout';
export { swiglu, swigluBackward } from './ops/swiglu';
export { softmax, logSoftmax } from './ops/softmax';
export { tokenLogprobs, tokenLogprobsBackward, entropy } from './ops/token-logprobs';
export { adamwStep, globalNorm, type AdamwOptions } from './ops/optim';
export { sample, type SampleOptions } from './ops/sample';
export {
  streamProbe,
  nativeCpuDetails,
  pagedF32,
  attentionAddonAt,
  packedMatmulAddonAt,
  rowPassAddonAt,
  memoryBoundAddonAt,
  sampleAddonAt,
  type AttentionAddon,
  type MemoryBoundAddon,
  type PackedMatmulAddon,
  type RowPassAddon,
  type SampleAddon,
  type StreamProbe,
} from './cpu/bandwidth';
export { profileKernels, type KernelTime } from './profile';
export { timeAgainstSystemBlas } from './cpu/blas';
export { machineGemmTuning, nativeGemmPath } from './cpu/tune';
export type { CpuDetails } from './cpu/native';
