// Tensors: dtype (f32, or i32 for token ids), shape, contiguous row-major storage, device.
// Host devices (`ref`, `cpu`) keep data in a typed array the tensor owns, shared zero-copy with the native
// addon; the `cuda` device keeps an opaque device buffer. Lifetimes are explicit (`dispose`) or scoped (`tidy`).
// Not an autograd engine: backward passes are written out by the model, op by op.

export type DType = 'f32' | 'i32';
export type Device = 'ref' | 'cpu' | 'cuda';
export type HostArray = Float32Array | Int32Array;

/** Backend-owned memory behind a tensor. Host storage wraps a typed array; device storage is opaque. */
export interface Storage {
  readonly host: HostArray | null; // null for device memory
  readonly handle?: unknown; // device memory (cuda)
  /** Copy out to a fresh host array (device) or return the host array itself (host devices). */
  read(): HostArray;
  free(): void;
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
/** Live views per storage beyond the first (reshape adds one); storage is freed when the last view goes. */
const extraViews = new WeakMap<Storage, number>();

export class Tensor {
  readonly size: number;
  private disposed = false;

  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly device: Device,
    private readonly storage: Storage,
  ) {
    this.size = sizeOf(shape);
    if (storage.host && storage.host.length < this.size) {
      throw new Error(`tensor storage holds ${storage.host.length} values, shape [${shape.join(', ')}] needs ${this.size}`);
    }
    if (scopes.length) scopes[scopes.length - 1].push(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The host array itself (ref/cpu: zero-copy). Throws for device tensors: use `toHost()`. */
  get data(): HostArray {
    this.assertAlive();
    if (!this.storage.host) throw new Error(`tensor on ${this.device} has no host view; call toHost() to copy it`);
    return this.storage.host;
  }

  get f32(): Float32Array {
    if (this.dtype !== 'f32') throw new Error(`expected an f32 tensor, got ${this.dtype}`);
    return this.data as Float32Array;
  }

  get i32(): Int32Array {
    if (this.dtype !== 'i32') throw new Error(`expected an i32 tensor, got ${this.dtype}`);
    return this.data as Int32Array;
  }

  /** Device memory handle for device backends. */
  get handle(): unknown {
    this.assertAlive();
    return this.storage.handle;
  }

  /** Host copy (device) or the host array (ref/cpu). */
  toHost(): HostArray {
    this.assertAlive();
    return this.storage.read();
  }

  toArray(): number[] {
    return Array.from(this.toHost());
  }

  /**
   * A view with another shape over the same storage (same size). The storage is freed when the last live
   * view is disposed, so a view made and dropped inside `tidy` never frees a tensor the scope returns.
   */
  reshape(shape: readonly number[]): Tensor {
    this.assertAlive();
    if (sizeOf(shape) !== this.size) {
      throw new Error(`cannot reshape [${this.shape.join(', ')}] (${this.size} values) to [${shape.join(', ')}]`);
    }
    const view = new Tensor(this.dtype, shape, this.device, this.storage);
    extraViews.set(this.storage, (extraViews.get(this.storage) ?? 0) + 1);
    return view;
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
  return { host: array, read: () => array, free: () => undefined };
}
