// Tensors: dtype (f32, or i32 for token ids), shape, a contiguous row-major range of a backend's storage,
// device. A tensor is (storage, element offset, shape): `view`/`rows`/`reshape` make tensors over a range
// of the same storage without copying, on host and device storage alike. Host devices (`ref`, `cpu`) keep
// data in a typed array shared zero-copy with the native addon; a device backend keeps an opaque handle
// and its kernels address (handle, offset). Lifetimes are explicit (`dispose`) or scoped (`tidy`).
// Not an autograd engine: backward passes are written out by the model, op by op.

/** Every device name, in preference order for reports. The one place the list is written out. */
export const DEVICES = ['ref', 'cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];
export type DType = 'f32' | 'i32';
export type HostArray = Float32Array | Int32Array;

export function isDevice(name: string): name is Device {
  return (DEVICES as readonly string[]).includes(name);
}

/** True for devices whose memory lives on the host (ref, cpu): CPU-only comparisons (llama.cpp, OpenBLAS) run there. */
export function isHostDevice(device: Device): boolean {
  return device !== 'cuda';
}

/**
 * Backend-owned memory behind one or more tensors, `length` elements of one dtype. Host storage wraps a
 * typed array; device storage is an opaque `handle` (a device pointer or buffer id). A tensor over it
 * covers elements [offset, offset + size): a device kernel reaches them at handle + offset elements.
 */
export interface Storage {
  readonly host: HostArray | null; // null for device memory
  readonly handle?: unknown; // device memory (cuda)
  /** capacity in elements */
  readonly length: number;
  /** Elements [offset, offset + size): a fresh host copy (device) or a subarray of the host array (host). */
  read(offset: number, size: number): HostArray;
  free(): void;
  /**
   * Host storage: set once its array has been handed out (`data`, `f32`, `i32`, `toHost()`), so the memory
   * may be referenced after the tensors are gone and is never recycled (backend.ts, HostPool).
   */
  exposed?: boolean;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

type ScopeList = Tensor[];
const scopes: ScopeList[] = [];
/** Live tensors per storage beyond the first (each view adds one); storage is freed when the last one goes. */
const extraViews = new WeakMap<Storage, number>();

export class Tensor {
  readonly size: number;
  private disposed = false;
  /** the host elements of this tensor (a subarray when it covers part of its storage); null on devices */
  private readonly hostRange: HostArray | null;

  /** `offset`: first element of this tensor in `storage` (0 for a tensor that owns its storage). */
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly device: Device,
    private readonly storage: Storage,
    readonly offset = 0,
  ) {
    this.size = sizeOf(shape);
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > storage.length) {
      throw new Error(
        `tensor [${shape.join(', ')}] at offset ${offset} needs ${offset + this.size} values, its storage holds ${storage.length}`,
      );
    }
    const host = storage.host;
    this.hostRange = !host ? null : offset === 0 && host.length === this.size ? host : host.subarray(offset, offset + this.size);
    if (scopes.length) scopes[scopes.length - 1].push(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** This tensor's elements in host memory (ref/cpu: zero-copy). Throws for device tensors: use `toHost()`. */
  get data(): HostArray {
    const host = this.kernelData();
    this.storage.exposed = true;
    return host;
  }

  /**
   * The host elements for one kernel call, for libs/kernels' own host backends only. Unlike `data` this does
   * not mark the memory as handed out, so the backend may recycle it once the tensor is disposed: the caller
   * must not keep the array past the call.
   */
  kernelData(): HostArray {
    this.assertAlive();
    if (!this.hostRange) throw new Error(`tensor on ${this.device} has no host view; call toHost() to copy it`);
    return this.hostRange;
  }

  get f32(): Float32Array {
    if (this.dtype !== 'f32') throw new Error(`expected an f32 tensor, got ${this.dtype}`);
    return this.data as Float32Array;
  }

  get i32(): Int32Array {
    if (this.dtype !== 'i32') throw new Error(`expected an i32 tensor, got ${this.dtype}`);
    return this.data as Int32Array;
  }

  /** The storage's device memory handle (device backends); this tensor starts `offset` elements into it. */
  get handle(): unknown {
    this.assertAlive();
    return this.storage.handle;
  }

  /** Host copy (device) or the host elements themselves (ref/cpu). */
  toHost(): HostArray {
    this.assertAlive();
    if (this.storage.host) this.storage.exposed = true; // zero-copy: the caller now holds the memory itself
    return this.storage.read(this.offset, this.size);
  }

  /**
   * fn(the elements in host memory): zero-copy on ref/cpu, a copy from a device. Unlike `data` and `toHost()` the
   * memory is only lent: it is not marked as handed out, so the host pool can recycle it once the tensor is
   * disposed. fn must not keep the array, or a view of it, past its return (copy what it needs). For per-step
   * reads of large outputs, such as a decode step's logits, which otherwise cost a fresh buffer every step.
   */
  readHost<T>(fn: (host: HostArray) => T): T {
    this.assertAlive();
    return fn(this.hostRange ?? this.storage.read(this.offset, this.size));
  }

  toArray(): number[] {
    return Array.from(this.toHost());
  }

  /**
   * A tensor of `shape` over elements [start, start + size(shape)) of this one, sharing storage (no copy).
   * The storage is freed when the last live tensor over it is disposed, so a view made and dropped inside
   * `tidy` never frees a tensor the scope returns, and a view outliving its base keeps the memory alive.
   */
  view(start: number, shape: readonly number[]): Tensor {
    this.assertAlive();
    const n = sizeOf(shape);
    if (!Number.isInteger(start) || start < 0 || start + n > this.size) {
      throw new Error(`view [${shape.join(', ')}] at ${start} does not fit in a tensor of shape [${this.shape.join(', ')}]`);
    }
    const view = new Tensor(this.dtype, shape, this.device, this.storage, this.offset + start);
    extraViews.set(this.storage, (extraViews.get(this.storage) ?? 0) + 1);
    return view;
  }

  /** Rows [start, start + count) of the first dim (row-major: a contiguous range), sharing storage. */
  rows(start: number, count: number): Tensor {
    if (this.rank < 1) throw new Error('rows() needs a tensor with at least one dimension');
    const [n, ...rest] = this.shape;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n) {
      throw new Error(`rows [${start}, ${start + count}) are outside a tensor of ${n} rows (shape [${this.shape.join(', ')}])`);
    }
    return this.view(start * sizeOf(rest), [count, ...rest]);
  }

  /** The same elements with another shape (same size), sharing storage. */
  reshape(shape: readonly number[]): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw new Error(`cannot reshape [${this.shape.join(', ')}] (${this.size} values) to [${shape.join(', ')}]`);
    }
    return this.view(0, shape);
  }

  /**
   * One tensor of `shape` over `parts` laid end to end in one storage (each starting where the one before it
   * ends), sharing that storage like a view; null when they are not (other storages, gaps, dtypes or devices, a
   * disposed part) or sizes differ. Lets a caller treat weights stored back to back as one matrix.
   */
  static joined(parts: readonly Tensor[], shape: readonly number[]): Tensor | null {
    const first = parts[0];
    if (!first) return null;
    let end = first.offset;
    for (const t of parts) {
      if (t.disposed || t.storage !== first.storage || t.dtype !== first.dtype || t.device !== first.device || t.offset !== end)
        return null;
      end += t.size;
    }
    if (sizeOf(shape) !== end - first.offset) return null;
    const joined = new Tensor(first.dtype, shape, first.device, first.storage, first.offset);
    extraViews.set(first.storage, (extraViews.get(first.storage) ?? 0) + 1);
    return joined;
  }

  /** True when both tensors cover at least one common element of the same storage. */
  overlaps(other: Tensor): boolean {
    return (
      this.storage === other.storage &&
      this.size > 0 &&
      other.size > 0 &&
      this.offset < other.offset + other.size &&
      other.offset < this.offset + this.size
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const extra = extraViews.get(this.storage) ?? 0;
    if (extra > 0) extraViews.set(this.storage, extra - 1);
    else this.storage.free();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error(`use of a disposed tensor [${this.shape.join(', ')}] on ${this.device}`);
  }
}

/**
 * Run `fn` and dispose every tensor created inside it except those it returns (a tensor, or an array or
 * object of tensors). Keeps native/device memory bounded across a training loop. If `fn` throws, every
 * tensor it created is disposed before the error propagates.
 */
export function tidy<R>(fn: () => R): R {
  const list: ScopeList = [];
  scopes.push(list);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    for (const t of list) t.dispose();
    throw err;
  } finally {
    scopes.pop();
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  for (const t of list) {
    if (!keep.has(t)) t.dispose();
    else if (scopes.length) scopes[scopes.length - 1].push(t);
  }
  return result;
}

function collect(value: unknown, out: Set<Tensor>): void {
  if (value instanceof Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v, out);
}

/** Host storage over a typed array (used by `ref` and `cpu`). */
export function hostStorage(array: HostArray): Storage {
  return new HostStorage(array);
}

/**
 * Host storage as a class, not an object of closures: made for every host tensor (several per op on a decode
 * step), so its methods are shared rather than created per allocation. `free` does nothing: the GC takes the
 * array (host-pool.ts PooledStorage overrides it for recycled memory).
 */
export class HostStorage implements Storage {
  readonly length: number;
  exposed?: boolean;
  constructor(readonly host: HostArray) {
    this.length = host.length;
  }
  read(offset: number, size: number): HostArray {
    return offset === 0 && size === this.host.length ? this.host : this.host.subarray(offset, offset + size);
  }
  free(): void {
    // the GC frees a plain host array
  }
}
