// Loads the cuda backend's Node-API addon (libs/kernels/build-cuda/lwz_cuda.node, built by
// `npx nx run kernels:build-cuda` where nvcc exists). The only file that loads it; a missing or unloadable
// addon is a reported state ({ error }), never an exception at import. Loading touches no CUDA API (cudart is
// linked statically): the device is probed by init(), which throws the reason (no driver, no device, ...).
// Device pointers cross as numbers; dtype codes: 0 = f32, 1 = bf16 (see libs/kernels/cuda/lwz_cuda.h).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Ptr = number;
type Dt = number;

/** The addon's entry points, argument order as in libs/kernels/cuda/addon/module.cpp. */
export interface CudaAddon {
  /** Starts the device; returns its description or throws why it cannot start. */
  init(device: number): string;
  synchronize(): void;
  setOption(name: 'gemm' | 'attention' | 'sync_check', value: string): void;
  alloc(bytes: number): Ptr;
  free(ptr: Ptr): void;
  memsetZero(ptr: Ptr, bytes: number): void;
  upload(ptr: Ptr, src: Float32Array | Int32Array): void;
  download(ptr: Ptr, dst: Float32Array | Int32Array): void;
  memoryStats(): { inUse: number; cached: number; mallocs: number };
  emptyCache(): void;
  /** LWZ_ERR_* bits raised by kernels since the last call (1: embedding id, 2: target id); clears them. */
  takeDeviceErrors(): number;
  matmul(
    a: Ptr,
    adt: Dt,
    b: Ptr,
    bdt: Dt,
    out: Ptr,
    odt: Dt,
    batch: number,
    m: number,
    n: number,
    k: number,
    bBatched: boolean,
    transA: boolean,
    transB: boolean,
    alpha: number,
    accumulate: boolean,
  ): void;
  add(a: Ptr, b: Ptr, out: Ptr, dt: Dt, n: number, nb: number): void;
  mul(a: Ptr, b: Ptr, out: Ptr, dt: Dt, n: number, nb: number): void;
  scale(a: Ptr, out: Ptr, dt: Dt, n: number, alpha: number, beta: number): void;
  sumRows(a: Ptr, adt: Dt, out: Ptr, n: number, c: number, accumulate: boolean): void;
  copy(src: Ptr, sdt: Dt, dst: Ptr, ddt: Dt, n: number): void;
  /**
   * dst[r, h, at[r] + t, :] = src[r, t, h, :] for h < heads (E values each; at: host values): src (B, T, heads, E)
   * into dst (B, heads, S, E), the KV cache's append in one launch; heads = 1 is (B, T, E) into (B, S, E).
   */
  copyAt(src: Ptr, sdt: Dt, dst: Ptr, ddt: Dt, at: Int32Array, b: number, t: number, s: number, e: number, heads: number): void;
  fill(out: Ptr, dt: Dt, n: number, value: number): void;
  embeddingForward(table: Ptr, ids: Ptr, out: Ptr, dt: Dt, n: number, c: number, v: number): void;
  embeddingBackward(dOut: Ptr, dt: Dt, ids: Ptr, dTable: Ptr, n: number, c: number, v: number): void;
  rmsnormForward(x: Ptr, w: Ptr, y: Ptr, rstd: Ptr, dt: Dt, n: number, c: number, eps: number): void;
  rmsnormBackward(dy: Ptr, x: Ptr, w: Ptr, rstd: Ptr, dx: Ptr, dw: Ptr, dt: Dt, n: number, c: number): void;
  rope(x: Ptr, positions: Ptr, out: Ptr, dt: Dt, b: number, t: number, h: number, d: number, theta: number, inverse: boolean): void;
  attentionForward(
    q: Ptr,
    k: Ptr,
    v: Ptr,
    qOffset: Ptr,
    kvStart: Ptr,
    out: Ptr,
    lse: Ptr,
    dt: Dt,
    b: number,
    t: number,
    s: number,
    h: number,
    hkv: number,
    d: number,
    scale: number,
    /** k/v (B, Hkv, S, D) instead of (B, S, Hkv, D) */
    headMajor: boolean,
  ): void;
  attentionBackward(
    q: Ptr,
    k: Ptr,
    v: Ptr,
    qOffset: Ptr,
    kvStart: Ptr,
    out: Ptr,
    lse: Ptr,
    dOut: Ptr,
    dq: Ptr,
    dk: Ptr,
    dv: Ptr,
    dt: Dt,
    b: number,
    t: number,
    s: number,
    h: number,
    hkv: number,
    d: number,
    scale: number,
  ): void;
  swigluForward(gate: Ptr, up: Ptr, out: Ptr, dt: Dt, n: number): void;
  swigluBackward(dOut: Ptr, gate: Ptr, up: Ptr, dGate: Ptr, dUp: Ptr, dt: Dt, n: number): void;
  softmax(x: Ptr, out: Ptr, dt: Dt, n: number, v: number, log: boolean): void;
  tokenLogprobsForward(logits: Ptr, targets: Ptr, logprobs: Ptr, lse: Ptr, dt: Dt, n: number, v: number): void;
  tokenLogprobsBackward(dLogprobs: Ptr, logits: Ptr, targets: Ptr, lse: Ptr, dLogits: Ptr, dt: Dt, n: number, v: number): void;
  entropy(logits: Ptr, entropy: Ptr, dt: Dt, n: number, v: number): void;
  adamw(
    param: Ptr,
    grad: Ptr,
    gdt: Dt,
    m: Ptr,
    v: Ptr,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
  sumSquares(x: Ptr, dt: Dt, n: number): number;
  countNonFinite(x: Ptr, dt: Dt, n: number): number;
  sample(logits: Ptr, uniforms: Ptr, ids: Ptr, dt: Dt, n: number, v: number, temperature: number, topK: number, topP: number): void;
}

/** Entry points the TypeScript side calls; an addon lacking one is reported as stale. */
export const CUDA_ENTRY_POINTS: readonly (keyof CudaAddon)[] = [
  'init',
  'synchronize',
  'alloc',
  'free',
  'memsetZero',
  'upload',
  'download',
  'takeDeviceErrors',
  'matmul',
  'add',
  'mul',
  'scale',
  'sumRows',
  'copy',
  'copyAt',
  'fill',
  'embeddingForward',
  'embeddingBackward',
  'rmsnormForward',
  'rmsnormBackward',
  'rope',
  'attentionForward',
  'attentionBackward',
  'swigluForward',
  'swigluBackward',
  'softmax',
  'tokenLogprobsForward',
  'tokenLogprobsBackward',
  'entropy',
  'adamw',
  'sumSquares',
  'countNonFinite',
  'sample',
];

export type CudaAddonLoad = { addon: CudaAddon; path: string } | { error: string; path: string };

/** Where `nx run kernels:build-cuda` puts the addon (LWZ_CUDA_ADDON overrides). */
export const defaultCudaAddonPath = fileURLToPath(new URL('../../build-cuda/lwz_cuda.node', import.meta.url));

export function loadCudaAddon(path: string = process.env.LWZ_CUDA_ADDON || defaultCudaAddonPath): CudaAddonLoad {
  if (!existsSync(path)) {
    const skipped = join(dirname(path), 'SKIPPED');
    const why = existsSync(skipped) ? readFileSync(skipped, 'utf8').trim() : 'it has not been built';
    return { error: `no CUDA addon at ${path}: ${why}; build it with \`npx nx run kernels:build-cuda\` where nvcc exists`, path };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as CudaAddon;
    const missing = CUDA_ENTRY_POINTS.filter((name) => typeof addon[name] !== 'function');
    if (missing.length)
      return { error: `${path} is stale (no ${missing.join(', ')}); rebuild with \`npx nx run kernels:build-cuda\``, path };
    return { addon, path };
  } catch (e) {
    return { error: `the CUDA addon did not load (${(e as Error).message.split('\n')[0]})`, path };
  }
}
