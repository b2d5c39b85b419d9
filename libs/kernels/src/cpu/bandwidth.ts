// The native STREAM-style copy, triad and read (native/bandwidth.cpp) on the kernels' thread pool, and the
// detected CPU: what benchmarks compare memory-bound kernels against and print beside their numbers.
// Null when the addon is not built. Not kernels of the contract: no tensors, no registry.
import { addonHostMemory, alignedHostArray } from '../backend';
import { defaultAddonPath, loadAddon, type CpuDetails, type NativeAddon } from './native';

export interface StreamProbe {
  /**
   * dst = src (8 bytes moved per element). stream: with streaming (non-temporal) stores when the copy is
   * larger than the last-level cache, the rule the row-pass kernels (softmax family, RMSNorm backward) follow
   * for their outputs; the fair limit for a kernel that streams.
   */
  copy(src: Float32Array, dst: Float32Array, stream?: boolean): void;
  /** a = b + s c (12 bytes moved per element) */
  triad(a: Float32Array, b: Float32Array, c: Float32Array, s: number): void;
  /** The sum of src (4 bytes read per element, nothing written): a plain read, vector loads, same threads. */
  read(src: Float32Array): number;
}

export function streamProbe(): StreamProbe | null {
  const load = loadAddon();
  if (!('addon' in load)) return null;
  const addon = load.addon;
  return {
    copy: (src, dst, stream = false) => addon.streamCopy(src, dst, Math.min(src.length, dst.length), stream),
    triad: (a, b, c, s) => addon.streamTriad(a, b, c, Math.min(a.length, b.length, c.length), s),
    read: (src) => addon.streamRead(src, src.length),
  };
}

/**
 * A zero-filled Float32Array laid out as a cpu tensor of its size (backend.ts alignedHostArray: from 2 MiB on a
 * 2 MiB boundary), its whole 2 MiB pages marked for transparent huge pages or not (`huge`; marking does nothing
 * where huge pages are off), for timing both page sizes in one process (benchmarks/kernels/hugepages-ab.ts).
 * Null without the addon.
 */
export function pagedF32(size: number, huge: boolean): Float32Array | null {
  const load = loadAddon();
  if (!('addon' in load)) return null;
  const array = alignedHostArray('f32', size, addonHostMemory(load.addon, huge));
  return array instanceof Float32Array ? array : null;
}

/** The CPU, caches and GEMM blocking the native kernels run with, or null without the addon. */
export function nativeCpuDetails(): CpuDetails | null {
  const load = loadAddon();
  return 'addon' in load ? load.addon.cpuDetails() : null;
}

/** A build of the addon loaded from its own path, for in-process A/B timing of the decode attention. */
export interface AttentionAddon {
  /** attentionForward on raw arrays: q (B, T, H, D), k/v (B, S, Hkv, D) or, headMajor, (B, Hkv, S, D) */
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    offsets: { qOffset: Int32Array; kvStart: Int32Array },
    out: { out: Float32Array; lse: Float32Array },
    dims: { b: number; t: number; s: number; h: number; hkv: number; d: number },
    headMajor: boolean,
  ): void;
  /** this build's read probe (StreamProbe.read) */
  read(src: Float32Array): number;
  setThreads(n: number): void;
}

/** The addon build at `path` (a copy of lwz_cpu.node; the *AddonAt views below); throws when it does not load. */
function addonBuildAt(path: string): NativeAddon {
  const load = loadAddon(path);
  if (!('addon' in load)) throw new Error(load.error);
  return load.addon;
}

/**
 * Another build of the addon (a copy of lwz_cpu.node at its own path, so several load side by side), for
 * benchmarks/kernels/kv-layout-ab.ts; without a path, this package's own build (op-overhead.ts,
 * decode-per-key.ts). A build older than the head-major layout ignores headMajor. Throws when the file does not load.
 */
export function attentionAddonAt(path: string = defaultAddonPath): AttentionAddon {
  const addon = addonBuildAt(path);
  return {
    attention: (q, k, v, { qOffset, kvStart }, { out, lse }, { b, t, s, h, hkv, d }, headMajor) =>
      addon.attentionForward(q, k, v, qOffset, kvStart, out, lse, b, t, s, h, hkv, d, 1 / Math.sqrt(d), headMajor),
    read: (src) => addon.streamRead(src, src.length),
    setThreads: (n) => addon.setThreads(n),
  };
}

/** What every kernel-vs-copy A/B view of an addon build has: the machine, and the copy probe as baseline. */
export interface CopyBaselineAddon {
  /** the CPU's name and the ISA this build runs */
  cpu: string;
  isa: string;
  /** dst = src (StreamProbe.copy) */
  copy(src: Float32Array, dst: Float32Array, stream: boolean): void;
  setThreads(n: number): void;
}

function copyBaselineView(addon: NativeAddon): CopyBaselineAddon {
  return {
    cpu: addon.cpuDetails().name,
    isa: addon.info().isa,
    copy: (src, dst, stream) => addon.streamCopy(src, dst, src.length, stream),
    setThreads: (n) => addon.setThreads(n),
  };
}

/** What benchmarks/kernels/rowpass-ab.ts times of one addon build: the RMSNorm backward and its copy baseline. */
export interface RowPassAddon extends CopyBaselineAddon {
  /** dx (N, C) and dw (C,) += from dy, x (N, C), w (C,), rstd (N,) */
  rmsnormBackward(
    dy: Float32Array,
    x: Float32Array,
    w: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    n: number,
    c: number,
  ): void;
  /** outputs of more bytes than this are streamed; -1 restores the default */
  setStreamBytes(bytes: number): void;
}

/** Another build of the addon, as attentionAddonAt, for benchmarks/kernels/rowpass-ab.ts. Throws when it does not load. */
export function rowPassAddonAt(path: string): RowPassAddon {
  const addon = addonBuildAt(path);
  return {
    ...copyBaselineView(addon),
    rmsnormBackward: (dy, x, w, rstd, dx, dw, n, c) => addon.rmsnormBackward(dy, x, w, rstd, dx, dw, n, c),
    setStreamBytes: (bytes) => addon.setStreamBytes(bytes),
  };
}

/** What benchmarks/kernels/membound-ab.ts times of one addon build: memory-bound forward ops and the copy probe. */
export interface MemoryBoundAddon extends CopyBaselineAddon {
  /** out (B, T, H, D) = x rotated by positions (B, T) */
  rope(x: Float32Array, positions: Int32Array, out: Float32Array, b: number, t: number, h: number, d: number): void;
  /** y (N, C), rstd (N,) from x (N, C), w (C,) */
  rmsnormForward(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, n: number, c: number): void;
  /** out (N, V) = log-softmax of x (N, V) over V */
  logSoftmax(x: Float32Array, out: Float32Array, n: number, v: number): void;
  /** out (N, C) = rows ids (N,) of table (V, C) */
  embedding(table: Float32Array, ids: Int32Array, out: Float32Array, n: number, c: number, v: number): void;
  /** logprobs (N,), lse (N,) of targets (N,) under logits (N, V); then dLogits (N, V) for dLogprobs (N,) */
  tokenLogprobs(logits: Float32Array, targets: Int32Array, logprobs: Float32Array, lse: Float32Array, n: number, v: number): void;
  tokenLogprobsBackward(
    dLogprobs: Float32Array,
    logits: Float32Array,
    targets: Int32Array,
    lse: Float32Array,
    dLogits: Float32Array,
    n: number,
    v: number,
  ): void;
  /** dTable (V, C) rows ids (N,) += dOut (N, C) */
  embeddingBackward(dOut: Float32Array, ids: Int32Array, dTable: Float32Array, n: number, c: number, v: number): void;
  /** out = silu(gate) up over n values */
  swiglu(gate: Float32Array, up: Float32Array, out: Float32Array, n: number): void;
  /** dGate, dUp from dOut, gate, up over n values */
  swigluBackward(dOut: Float32Array, gate: Float32Array, up: Float32Array, dGate: Float32Array, dUp: Float32Array, n: number): void;
}

/** Another build of the addon, as attentionAddonAt, for benchmarks/kernels/membound-ab.ts. Throws when it does not load. */
export function memoryBoundAddonAt(path: string): MemoryBoundAddon {
  const addon = addonBuildAt(path);
  return {
    ...copyBaselineView(addon),
    rope: (x, positions, out, b, t, h, d) => addon.ropeForward(x, positions, out, b, t, h, d, 10000, false),
    rmsnormForward: (x, w, y, rstd, n, c) => addon.rmsnormForward(x, w, y, rstd, n, c, 1e-6),
    logSoftmax: (x, out, n, v) => addon.softmaxForward(x, out, n, v, true),
    embedding: (table, ids, out, n, c, v) => addon.embeddingForward(table, ids, out, n, c, v),
    embeddingBackward: (dOut, ids, dTable, n, c, v) => addon.embeddingBackward(dOut, ids, dTable, n, c, v),
    swiglu: (gate, up, out, n) => addon.swigluForward(gate, up, out, n),
    swigluBackward: (dOut, gate, up, dGate, dUp, n) => addon.swigluBackward(dOut, gate, up, dGate, dUp, n),
    tokenLogprobs: (logits, targets, logprobs, lse, n, v) => addon.tokenLogprobsForward(logits, targets, logprobs, lse, n, v),
    tokenLogprobsBackward: (dLogprobs, logits, targets, lse, dLogits, n, v) =>
      addon.tokenLogprobsBackward(dLogprobs, logits, targets, lse, dLogits, n, v),
  };
}

/** What benchmarks/kernels/sample-ab.ts times of one addon build: the cpu sampler. */
export interface SampleAddon {
  /** ids (N,) drawn from logits (N, V) with uniforms (N,), as sampleForward */
  sample(logits: Float32Array, uniforms: Float32Array, ids: Int32Array, n: number, v: number, t: number, topK: number, topP: number): void;
  setThreads(n: number): void;
}

/** Another build of the addon, as attentionAddonAt, for benchmarks/kernels/sample-ab.ts. Throws when it does not load. */
export function sampleAddonAt(path: string): SampleAddon {
  const addon = addonBuildAt(path);
  return {
    sample: (logits, uniforms, ids, n, v, t, topK, topP) => addon.sampleForward(logits, uniforms, ids, n, v, t, topK, topP),
    setThreads: (n) => addon.setThreads(n),
  };
}

/** What benchmarks/kernels/packed-ab.ts times of one addon build: x W^T against a pre-packed W, as the rollout decodes. */
export interface PackedMatmulAddon {
  /** W (n, k), row-major, packed for x W^T into an array laid out as a cpu tensor's (aligned, no huge-page advice) */
  pack(w: Float32Array, n: number, k: number): { packed: Float32Array; kc: number; nr: number };
  /** out (m, n) = a (m, k) W^T, W given packed (and unpacked, which the addon's fallbacks read) */
  matmul(
    a: Float32Array,
    w: Float32Array,
    packed: { packed: Float32Array; kc: number; nr: number },
    out: Float32Array,
    m: number,
    n: number,
    k: number,
  ): void;
  setThreads(n: number): void;
}

/**
 * Another build of the addon at its own path for in-process A/B timing of the packed decode matmuls, on the
 * addon's own GEMM (system BLAS off). Throws when the file does not load.
 */
export function packedMatmulAddonAt(path: string): PackedMatmulAddon {
  const load = loadAddon(path);
  if (!('addon' in load)) throw new Error(`${path}: ${load.error}`);
  const addon = load.addon;
  addon.blasLoad('own');
  return {
    pack: (w, n, k) => {
      const [kc, nr, floats] = addon.packedMatmulLayout(n, k);
      const packed = alignedHostArray('f32', floats, addonHostMemory(addon, false)) as Float32Array;
      addon.packMatmulB(w, n, k, true, packed);
      return { packed, kc, nr };
    },
    matmul: (a, w, { packed, kc, nr }, out, m, n, k) =>
      addon.matmulForward(a, w, out, 1, m, n, k, false, false, true, 1, false, packed, kc, nr),
    setThreads: (n) => addon.setThreads(n),
  };
}
