// Per-kernel time accounting for benchmarks (issue #15: a train step's time by kernel, beside PyTorch's
// profiler): while `profileKernels(fn)` runs, getKernel hands out timing wrappers, so every kernel call made
// inside fn is counted under its name (matmuls also under their shape). Wall-clock time of the synchronous
// call; no effect on results, and no cost outside a profile. Not a tracer: no nesting, no timeline.
import type { KernelSignatures } from './kernel-signatures';
import { gemmDims } from './ops/matmul-shapes';
import type { Tensor } from './tensor';

type KernelName = keyof KernelSignatures; // registry.ts's, restated here: registry imports this file

export interface KernelTime {
  /** kernel name, with "M×K×N" and the transposes for matmuls */
  label: string;
  calls: number;
  ms: number;
}

let active: Map<string, KernelTime> | null = null;

function labelOf(name: KernelName, args: unknown): string {
  if (name !== 'matmulForward') return name;
  const { a, b, transA, transB } = args as { a: Tensor; b: Tensor; transA: boolean; transB: boolean };
  const { batch, m, n, k } = gemmDims(a, b, transA, transB);
  return `matmul ${batch > 1 ? `${batch}×` : ''}${m}×${k}×${n}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`;
}

/** The kernel itself, or while a profile runs, a wrapper that adds its time to the profile. */
export function profiled<K extends KernelName>(name: K, fn: KernelSignatures[K]): KernelSignatures[K] {
  if (!active) return fn;
  const table = active;
  const timed = (args: unknown) => {
    const t0 = performance.now();
    const r = (fn as (a: unknown) => unknown)(args);
    const ms = performance.now() - t0;
    const label = labelOf(name, args);
    const row = table.get(label) ?? { label, calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += ms;
    table.set(label, row);
    return r;
  };
  return timed as unknown as KernelSignatures[K];
}

/** Run fn with every kernel call timed; rows sorted by total time, largest first. */
export function profileKernels<T>(fn: () => T): { result: T; kernels: KernelTime[]; totalMs: number } {
  if (active) throw new Error('profileKernels does not nest');
  active = new Map();
  const t0 = performance.now();
  try {
    const result = fn();
    const totalMs = performance.now() - t0;
    return { result, kernels: [...active.values()].sort((x, y) => y.ms - x.ms), totalMs };
  } finally {
    active = null;
  }
}
