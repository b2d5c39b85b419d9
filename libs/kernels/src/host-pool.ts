// Recycling of host tensor memory (cpu backend). A decode step or a train step allocates the same output
// sizes over and over; a fresh ArrayBuffer each time costs V8's zero-filled allocation and, through external
// memory pressure, garbage collections (together ~12 % of a batch-32 decode step on `tiny`, #10). Buffers of
// a disposed tensor go back to a free list keyed by dtype and size and are handed out again zero-filled.
// Only memory nobody else can still hold is recycled: never an array adopted from the caller (`tensor()`),
// never one handed out through `data` / `f32` / `i32` / `toHost()` (Storage.exposed). Not a general
// allocator: no size classes, no splitting; a bounded cache of whole buffers.
import { HostStorage, type DType, type HostArray } from './tensor';

/**
 * Smallest buffer recycled (values). V8 keeps a typed array of up to 64 bytes (16 values) on its own heap,
 * which is cheap; a larger one gets a zero-filled backing store from the system allocator and counts as
 * external memory (~2-3 us per allocation, and GC pressure), which is what a batch-1 decode step's many (1, hidden)
 * outputs paid.
 */
export const POOL_MIN_VALUES = 17;

/** Default bound on the bytes the free lists hold (LWZ_HOST_POOL_MB overrides it; 0 disables recycling). */
export const POOL_DEFAULT_MB = 256;

export class HostPool {
  private readonly free = new Map<number, HostArray[]>();
  private held = 0;

  /** `capBytes`: most bytes the free lists may hold; a buffer that would exceed it is left to the GC. */
  constructor(readonly capBytes: number) {}

  /** A recycled zero-filled array of this dtype and size, or undefined when none is free. */
  take(dtype: DType, size: number): HostArray | undefined {
    const list = this.free.get(key(dtype, size));
    const array = list?.pop();
    if (!array) return undefined;
    this.held -= array.byteLength;
    array.fill(0);
    return array;
  }

  /** Hand an array back for reuse; the caller must hold no other reference to it. */
  give(dtype: DType, array: HostArray): void {
    if (array.length < POOL_MIN_VALUES || this.held + array.byteLength > this.capBytes) return;
    const k = key(dtype, array.length);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    list.push(array);
    this.held += array.byteLength;
  }

  /** Bytes held in the free lists now. */
  get heldBytes(): number {
    return this.held;
  }
}

/** One number per (dtype, size): no string is built on the allocation path. */
function key(dtype: DType, size: number): number {
  return dtype === 'f32' ? 2 * size : 2 * size + 1;
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

/** The pool bound from LWZ_HOST_POOL_MB (a whole number of MiB >= 0), or the default. */
export function poolCapFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LWZ_HOST_POOL_MB;
  if (raw === undefined || raw === '') return POOL_DEFAULT_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 0)
    throw new Error(`LWZ_HOST_POOL_MB=${raw} must be a whole number of MiB >= 0 (0 turns recycling off)`);
  return mb * 2 ** 20;
}
