// Argument checks shared by the ops: one device for all inputs, dtypes, and shapes, with messages that
// name the op and the tensors; and the optional `out` tensor every op accepts.
import { empty, zeros } from '../create';
import { sizeOf, type Device, type DType, type Tensor } from '../tensor';

export function sameDevice(op: string, ...ts: Tensor[]): Device {
  const device = ts[0].device;
  for (const t of ts) {
    if (t.device !== device) throw new Error(`${op}: inputs live on different devices (${device} and ${t.device})`);
  }
  return device;
}

export function expectDtype(op: string, name: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype) throw new Error(`${op}: ${name} must be ${dtype}, got ${t.dtype}`);
}

export function expectShape(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

export function expectRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) throw new Error(`${op}: ${name} must be ${rank}-D, got shape [${t.shape.join(', ')}]`);
}

export function expectSize(op: string, name: string, t: Tensor, size: number, what: string): void {
  if (t.size !== size) throw new Error(`${op}: ${name} has ${t.size} values (shape [${t.shape.join(', ')}]), expected ${what}`);
}

/** The last dim of a tensor of rank >= 1 (the channel / vocab axis), and the rows before it. */
export function rowsAndCols(op: string, name: string, t: Tensor): { rows: number; cols: number } {
  if (t.rank < 1) throw new Error(`${op}: ${name} must have at least one dimension`);
  const cols = t.shape[t.rank - 1];
  return { rows: cols === 0 ? 0 : t.size / cols, cols };
}

export function expectFinite(op: string, name: string, x: number): void {
  if (!Number.isFinite(x)) throw new Error(`${op}: ${name} must be a finite number, got ${x}`);
}

/**
 * The caller's output tensor, checked (device, dtype, size: any shape with the right number of values, so
 * a view or a flattened buffer serves), or a fresh zero-filled one of `shape`; `whole` (the kernel writes
 * every value of this output, whatever it held) gives a fresh one without the zero-fill (`empty`).
 */
export function outputOr(
  op: string,
  name: string,
  out: Tensor | undefined,
  shape: readonly number[],
  device: Device,
  dtype: DType = 'f32',
  whole = false,
): Tensor {
  if (!out) return whole ? empty(shape, { device, dtype }) : zeros(shape, { device, dtype });
  const size = sizeOf(shape);
  if (out.device !== device) throw new Error(`${op}: ${name} lives on ${out.device}, the inputs on ${device}`);
  expectDtype(op, name, out, dtype);
  expectSize(op, name, out, size, `${size} (shape [${shape.join(', ')}])`);
  return out;
}
