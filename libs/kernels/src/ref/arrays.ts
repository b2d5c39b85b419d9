// Array types for the ref kernels. Each ref kernel is written over plain indexable arrays so the tensor
// kernel (Float32Array storage) and the float64 gradient tests (Float64Array) run the same code.
// Not a tensor abstraction: shapes are passed as plain numbers next to the arrays.

/** Readable numbers: Float32Array, Float64Array, Int32Array or number[]. */
export type Vec = ArrayLike<number>;

/** Writable numbers. */
export interface Buf {
  [index: number]: number;
  readonly length: number;
}
