// Recycling of host tensor memory (cpu backend). A decode step or a train step allocates the same output
// sizes over and over; a fresh ArrayBuffer each time costs V8's zero-filled allocation and, through external
// memory pressure, garbage collections (together ~12 % of a batch-32 decode step on `tiny`, #10); and a large
// fresh buffer's first touch faults in every page of it (0.2-0.5 GB/s on the Zen 5 VM for memory new to the
// process, benchmarks/kernels/first-touch.ts), where a recycled one costs its zero-fill. Buffers of a disposed
// tensor go back to a free list keyed by dtype and capacity class (poolCapacity: exact below 64 KiB, within
// 12.5 % above) and are handed out again zero-filled (or as they were left, for `empty`), also for a nearby
// size; when the bound is reached the oldest free buffers make room for newer ones.
// Only memory nobody else can still hold is recycled: never an array adopted from the caller (`tensor()`),
// never one handed out through `data` / `f32` / `i32` / `toHost()` (Storage.exposed). Not a general
// allocator: no splitting; a bounded cache of whole buffers.
import { UserError } from '@lwz/core';
import { HostStorage, type DType, type HostArray } from './tensor';

/**
 * Smallest buffer recycled (values). V8 keeps a typed array of up to 64 bytes (16 values) on its own heap,
 * which is cheap; a larger one gets a zero-filled backing store from the system allocator and counts as
 * external memory (~2-3 us per allocation, and GC pressure), which is what a batch-1 decode step's many (1, hidden)
 * outputs paid.
 */
export const POOL_MIN_VALUES = 17;

/** Default bound on the bytes the free lists hold (LWZ_HOST_POOL_MB overrides it; 0 disables recycling). */
export const POOL_DEFAULT_MB = 1024;

/** From this many bytes a buffer is allocated with its size class's capacity (poolCapacity); below, exactly. */
export const POOL_CLASS_MIN_BYTES = 2 ** 16;

/**
 * The values a pooled buffer for `size` values holds: `size` below POOL_CLASS_MIN_BYTES; from there the next of 8
 * classes per power of two, at most 12.5 % more. A GRPO micro-batch's activations are (rows x padded length,
 * width): their sizes move from batch to batch by a few per cent, and with exact sizes almost none were recycled,
 * so every large activation was fresh memory whose first touch faulted in its pages (a GEMM writing a fresh (7184,
 * 704) output ran at 80 GFLOP/s against 305 into a recycled one on the Zen 5 VM, benchmarks/README.md). The
 * classes began at 2 MiB until session 28, on the belief that glibc's heap reuses smaller freed blocks without new
 * faults; it does not for these: 60 train-rm updates (pairs of every length, so (rows x length, width) activations
 * of 0.5-2 MiB in a new size nearly every time) missed the pool 14.4 k times (10.0 k from 64 KiB), 0.5-0.8 ms an
 * allocation from 512 KiB (7.1 s of a 50 s run); with classes from 64 KiB, 5.9 k misses (2.0 k from 64 KiB), 1.3 s,
 * and 35-37 s. Below 64 KiB a miss cost 0.01-0.05 ms.
 */
export function poolCapacity(size: number): number {
  const bytes = size * 4;
  if (bytes < POOL_CLASS_MIN_BYTES) return size;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3); // >= 256 KiB here: whole values
  return (Math.ceil(bytes / step) * step) / 4;
}

interface FreeBuffer {
  array: HostArray;
  key: number;
  bytes: number;
}

export class HostPool {
  /** free buffers per (dtype, capacity class), handed out newest first */
  private readonly free = new Map<number, FreeBuffer[]>();
  /** every free buffer, oldest first: what a full pool evicts to take a newer one */
  private readonly order = new Set<FreeBuffer>();
  private held = 0;

  /**
   * `capBytes`: most bytes the free lists may hold; the oldest are left to the GC to stay within it.
   * `poison` (tests, LWZ_HOST_POOL_POISON=1): every buffer given back is filled with NaN (f32) or -2^31 (i32),
   * so an op that reads an `empty` output before writing all of it shows up as NaN or a wild index.
   */
  constructor(
    readonly capBytes: number,
    public poison = false,
  ) {}

  /**
   * A recycled array of this dtype and size (a view of a buffer of its class), zero-filled unless `zero` is
   * false (then holding whatever it last held), or undefined.
   */
  take(dtype: DType, size: number, zero = true): HostArray | undefined {
    const entry = this.free.get(key(dtype, poolCapacity(size)))?.pop();
    if (!entry) return undefined;
    this.order.delete(entry);
    this.held -= entry.bytes;
    const { array } = entry;
    const view =
      array.length === size
        ? array
        : new (dtype === 'f32' ? Float32Array : Int32Array)(array.buffer as ArrayBuffer, array.byteOffset, size);
    if (zero) view.fill(0);
    return view;
  }

  /**
   * Hand an array back for reuse; the caller must hold no other reference to it. Its buffer must hold
   * poolCapacity(length) values from its offset (backend.ts allocates pooled arrays so); one that does not is
   * left to the GC.
   */
  give(dtype: DType, array: HostArray): void {
    if (array.length < POOL_MIN_VALUES) return;
    const capacity = poolCapacity(array.length);
    const bytes = capacity * 4;
    if (bytes > this.capBytes || array.buffer.byteLength - array.byteOffset < bytes) return;
    if (this.poison) array.fill(dtype === 'f32' ? Number.NaN : -(2 ** 31));
    for (const old of this.order) {
      if (this.held + bytes <= this.capBytes) break;
      this.order.delete(old);
      const list = this.free.get(old.key);
      list?.splice(list.indexOf(old), 1);
      this.held -= old.bytes;
    }
    const entry = { array, key: key(dtype, capacity), bytes };
    let list = this.free.get(entry.key);
    if (!list) this.free.set(entry.key, (list = []));
    list.push(entry);
    this.order.add(entry);
    this.held += bytes;
  }

  /** Bytes held in the free lists now (whole capacities). */
  get heldBytes(): number {
    return this.held;
  }
}

/** One number per (dtype, capacity): no string is built on the allocation path. */
function key(dtype: DType, capacity: number): number {
  return dtype === 'f32' ? 2 * capacity : 2 * capacity + 1;
}

/** Host storage whose array goes back to `pool` when its last tensor is disposed, unless it was handed out. */
export class PooledStorage extends HostStorage {
  constructor(
    host: HostArray,
    private readonly dtype: DType,
    private readonly pool: HostPool,
  ) {
    super(host);
  }
  override free(): void {
    if (!this.exposed) this.pool.give(this.dtype, this.host);
  }
}

/** LWZ_HOST_POOL_POISON=1: the pool poisons what it takes back (HostPool's `poison`; for tests). */
export function poolPoisonFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LWZ_HOST_POOL_POISON === '1';
}

/** The pool bound from LWZ_HOST_POOL_MB (a whole number of MiB >= 0), or the default; a UserError otherwise. */
export function poolCapFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LWZ_HOST_POOL_MB;
  if (raw === undefined || raw === '') return POOL_DEFAULT_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 0)
    throw new UserError(
      `LWZ_HOST_POOL_MB=${raw} is not a whole number of MiB >= 0: set it to the MiB of freed host buffers kept for reuse (0 turns recycling off), or unset it (default ${POOL_DEFAULT_MB})`,
    );
  return mb * 2 ** 20;
}
