// Argument checks shared by the ops: one device for all inputs, dtypes, and shapes, with messages that
// name the op and the tensors.
import type { Device, DType, Tensor } from '../tensor';

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
