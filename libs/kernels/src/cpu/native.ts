// Loads the cpu backend's Node-API addon (libs/kernels/build/Release/lwz_cpu.node, built by
// `nx run kernels:build-native`). The only file that loads it; failing to load is a reported state
// ({ error }), never an exception at import. Typed arrays cross the boundary zero-copy.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's entry points: argument order as in libs/kernels/native/*.cpp (sizes after buffers). */
/** The CPU and caches the GEMM blocking was derived from (native/cpuinfo.cpp, native/blocking.cpp). */
export interface CpuDetails {
  vendor: string;
  name: string;
  family: number;
  model: number;
  caches: Record<'l1d' | 'l2' | 'l3', { bytes: number; ways: number; sharing: number }> & { source: string };
  /**
   * fewColumnsGroups[i]: row groups of transposed op(A) per thread from which the few-columns path runs for an op(B)
   * up to fewColumnsWidths[i] columns wide (tune.ts; 4, the default, beyond the last width)
   */
  gemm: {
    isa: string;
    mr: number;
    nr: number;
    kc: number;
    nc: number;
    mc: number;
    source: string;
    fewColumnsGroups: number[];
    fewColumnsWidths: number[];
    /**
     * Transposed op(A) with 3 row groups a thread and op(B) wider than nc, up to this many nc: the few-columns path's
     * shallower slice, rows shared by lines ('few-columns-shallow-balanced'); 0: the block path (this ISA's tile)
     */
    shallowBalancedColumns: number;
  };
  /** large host memory is marked for transparent huge pages (native/hugepages.cpp; LWZ_HUGEPAGES=0: off) */
  hugePages?: boolean;
  /** the kernel's THP mode: always, madvise, never; none off Linux */
  thp?: string;
}

export interface NativeAddon {
  /**
   * isaNote: why LWZ_ISA, LWZ_STREAM_BYTES or LWZ_SPIN_US was not applied at load ("" when they were, or were
   * unset); streamBytes: a call touching more bytes (read + written) writes its output with streaming stores
   * (native/common.h streamOutput); spinMicros: how long an idle pool worker spins before it sleeps (LWZ_SPIN_US);
   * hugePages: whether large host memory is marked for transparent huge pages (Linux, THP not `never`,
   * LWZ_HUGEPAGES not 0); thp: the kernel's THP mode (always, madvise, never; none off Linux)
   */
  info(): {
    isa: string;
    detectedIsa: string;
    threads: number;
    isaNote?: string;
    streamBytes?: number;
    spinMicros?: number;
    hugePages?: boolean;
    thp?: string;
  };
  setIsa(name: 'avx512' | 'avx2' | 'generic'): boolean;
  setThreads(n: number): void;
  /** Set streamBytes (tests force the streaming or the plain stores); a negative value restores the LLC size. */
  setStreamBytes(bytes: number): void;
  copyForward(src: F32 | I32, out: F32 | I32, n: number): void;
  copyAtForward(src: F32 | I32, out: F32 | I32, at: I32, b: number, t: number, s: number, e: number, h: number): void;
  fillForward(out: F32 | I32, n: number, value: number): void;
  /** [kc, nr, floats]: how packMatmulB lays out op(b) of depth k and n columns under today's blocking */
  packedMatmulLayout(n: number, k: number): [number, number, number];
  packMatmulB(b: F32, n: number, k: number, transB: boolean, out: F32): void;
  matmulForward(
    a: F32,
    b: F32,
    out: F32,
    batch: number,
    m: number,
    n: number,
    k: number,
    bBatched: boolean,
    transA: boolean,
    transB: boolean,
    alpha: number,
    accumulate: boolean,
    packedB?: F32,
    packedKc?: number,
    packedNr?: number,
  ): void;
  addForward(a: F32, b: F32, out: F32, n: number, nb: number): void;
  mulForward(a: F32, b: F32, out: F32, n: number, nb: number): void;
  scaleForward(a: F32, out: F32, n: number, alpha: number, beta: number): void;
  sumRowsForward(a: F32, out: F32, n: number, c: number, accumulate: boolean): void;
  embeddingForward(table: F32, ids: I32, out: F32, n: number, c: number, v: number): void;
  embeddingBackward(dOut: F32, ids: I32, dTable: F32, n: number, c: number, v: number): void;
  rmsnormForward(x: F32, w: F32, y: F32, rstd: F32, n: number, c: number, eps: number): void;
  rmsnormBackward(dy: F32, x: F32, w: F32, rstd: F32, dx: F32, dw: F32, n: number, c: number): void;
  ropeForward(x: F32, positions: I32, out: F32, b: number, t: number, h: number, d: number, theta: number, inverse: boolean): void;
  attentionForward(
    q: F32,
    k: F32,
    v: F32,
    qOffset: I32,
    kvStart: I32,
    out: F32,
    lse: F32,
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
    q: F32,
    k: F32,
    v: F32,
    qOffset: I32,
    kvStart: I32,
    out: F32,
    lse: F32,
    dOut: F32,
    dq: F32,
    dk: F32,
    dv: F32,
    b: number,
    t: number,
    s: number,
    h: number,
    hkv: number,
    d: number,
    scale: number,
  ): void;
  swigluForward(gate: F32, up: F32, out: F32, n: number): void;
  swigluBackward(dOut: F32, gate: F32, up: F32, dGate: F32, dUp: F32, n: number): void;
  softmaxForward(x: F32, out: F32, n: number, v: number, log: boolean): void;
  tokenLogprobsForward(logits: F32, targets: I32, logprobs: F32, lse: F32, n: number, v: number): void;
  tokenLogprobsBackward(dLogprobs: F32, logits: F32, targets: I32, lse: F32, dLogits: F32, n: number, v: number): void;
  entropyForward(logits: F32, entropy: F32, n: number, v: number): void;
  adamwStep(
    param: F32,
    grad: F32,
    m: F32,
    v: F32,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
  sumSquares(x: F32, n: number): number;
  sampleForward(logits: F32, uniforms: F32, ids: I32, n: number, v: number, temperature: number, topK: number, topP: number): void;
  cpuDetails(): CpuDetails;
  /** The address of the buffer's first byte modulo `modulus` (a power of two, default 64; backend.ts alignedHostArray). */
  bufferMisalign(buffer: ArrayBuffer, modulus?: number): number;
  /**
   * Mark the whole 2 MiB pages of [offset, offset + bytes) MADV_HUGEPAGE and drop the pages they hold (they read
   * as zeros after: fresh buffers only); the bytes marked (0 when huge pages are off).
   */
  adviseHugePages(buffer: ArrayBuffer, offset: number, bytes: number): number;
  /** kB of the buffer's range in huge pages now (/proc/self/smaps), -1 where it cannot be read (tests). */
  hugePageKb(buffer: ArrayBuffer): number;
  /** Override one ISA's GEMM blocking (kc = 0 restores the cache model's); source 'tuned' | 'set'. */
  setGemmBlocking(isa: 'avx512' | 'avx2' | 'generic', kc: number, nc: number, mc: number, source: 'tuned' | 'set'): void;
  /**
   * One ISA's few-columns thresholds for transposed op(A), in row groups per thread, one per op(B) width of
   * cpuDetails().gemm.fewColumnsWidths (each 1-64; 0 restores that entry's default, 4).
   */
  setGemmPaths(isa: 'avx512' | 'avx2' | 'generic', ...groups: [number, number, number, number]): void;
  /**
   * The loop order our GEMM takes for this shape now: 'few-columns', 'few-columns-balanced', 'few-columns-shallow',
   * 'few-columns-shallow-balanced', 'few-rows', 'packed-few-rows', 'block', 'gemv' or 'none'.
   */
  gemmPath(m: number, n: number, k: number, transA: boolean, transB: boolean): string;
  /** Median ms of our matmul on one shape over `reps` calls after a warm-up, on fixed operands (tune.ts). */
  gemmTime(m: number, n: number, k: number, transA: boolean, transB: boolean, reps: number): number;
  /** dst = src over n floats (bandwidth probe: 8n bytes moved); stream: streaming stores above streamBytes */
  streamCopy(src: F32, dst: F32, n: number, stream: boolean): void;
  /** a = b + s c over n floats (bandwidth probe: 12n bytes moved) */
  streamTriad(a: F32, b: F32, c: F32, n: number, s: number): void;
  /** the sum of src[0, n) (bandwidth probe: 4n bytes read) */
  streamRead(src: F32, n: number): number;
  /** Load the system BLAS: 'auto' | 'own' | a library path; path '' when none is loaded, note when a named one failed. */
  blasLoad(spec: string): { path: string; note: string };
  /** Median ms of our matmul and the loaded BLAS's on one shape, each timed in its own block after a warm-up. */
  blasTime(m: number, n: number, k: number, transA: boolean, transB: boolean, reps: number): { oursMs: number; blasMs: number };
  /** Routing plan: rows of (m, n, k, transA, transB, useBlas) as 0/1 flags. */
  blasSetPlan(plan: Float64Array): void;
}

export type AddonLoad = { addon: NativeAddon; path: string } | { error: string; path: string };

/** Where `nx run kernels:build-native` puts the addon. */
export const defaultAddonPath = fileURLToPath(new URL('../../build/Release/lwz_cpu.node', import.meta.url));

export function loadAddon(path: string = defaultAddonPath): AddonLoad {
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (typeof addon.info !== 'function') return { error: `${path} is not the lwz_cpu addon (no info())`, path };
    return { addon, path };
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    return { error: `native addon not loaded (${reason}); build it with \`npx nx run kernels:build-native\``, path };
  }
}
