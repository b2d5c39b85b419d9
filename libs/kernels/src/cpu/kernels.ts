// The cpu kernel table: each contract kernel (kernel-signatures.ts) as a thin wrapper that reads sizes off
// the tensors and calls the addon. Entry points missing from the loaded addon are left out.
import type { KernelSignatures } from '../kernel-signatures';
import type { KernelName } from '../registry';
import { attentionKernels } from './attention';
import { matmulKernel } from './matmul';
import type { NativeAddon } from './native';
import { pointwiseKernels } from './pointwise';
import { rowKernels } from './rows';

type Entry = [KernelName, KernelSignatures[KernelName]];

export function cpuKernels(addon: NativeAddon): Entry[] {
  const all: Partial<KernelSignatures> = {
    matmulForward: matmulKernel(addon),
    ...attentionKernels(addon),
    ...pointwiseKernels(addon),
    ...rowKernels(addon),
  };
  const have = addon as unknown as Record<string, unknown>;
  return (Object.entries(all) as Entry[]).filter(([name]) => typeof have[name] === 'function');
}
