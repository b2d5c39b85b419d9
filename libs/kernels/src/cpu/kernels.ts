// The cpu kernel table: every contract kernel (kernel-signatures.ts) as a thin wrapper that reads sizes off
// the tensors and calls the addon. The table is complete by type; an addon that lacks one of its entry
// points (built from older sources) is a broken build, reported by name when the backend starts.
import type { KernelSignatures } from '../kernel-signatures';
import type { KernelName } from '../registry';
import { attentionKernels } from './attention';
import { matmulKernel } from './matmul';
import type { NativeAddon } from './native';
import { pointwiseKernels } from './pointwise';
import { rowKernels } from './rows';

type Entry = [KernelName, KernelSignatures[KernelName]];

export function cpuKernels(addon: NativeAddon): Entry[] {
  const all: KernelSignatures = {
    matmulForward: matmulKernel(addon),
    ...attentionKernels(addon),
    ...pointwiseKernels(addon),
    ...rowKernels(addon),
  };
  return Object.entries(all) as Entry[];
}

/** Kernel names whose addon entry point is missing (each cpu kernel calls the entry point of its own name). */
export function missingEntryPoints(addon: NativeAddon): KernelName[] {
  const have = addon as unknown as Record<string, unknown>;
  return cpuKernels(addon)
    .map(([name]) => name)
    .filter((name) => typeof have[name] !== 'function');
}
