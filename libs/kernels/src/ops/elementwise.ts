// Elementwise ops: add, mul (b may suffix-broadcast: a bias or gain (C,) against (N, C)), scale, axpy.
// Each checks devices/dtypes/sizes, allocates its output (unless told to write in place) and dispatches.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, outputOr, sameDevice } from './checks';

function broadcastCheck(op: string, a: Tensor, b: Tensor): void {
  expectDtype(op, 'a', a, 'f32');
  expectDtype(op, 'b', b, 'f32');
  if (b.size === 0 ? a.size !== 0 : a.size % b.size !== 0) {
    throw new Error(`${op}: b [${b.shape.join(', ')}] neither matches nor suffix-broadcasts to a [${a.shape.join(', ')}]`);
  }
  const n = Math.min(a.rank, b.rank);
  for (let i = 1; i <= n && b.size !== a.size; i++) {
    if (b.shape[b.rank - i] !== a.shape[a.rank - i]) {
      throw new Error(`${op}: b [${b.shape.join(', ')}] is not a suffix of a [${a.shape.join(', ')}]`);
    }
  }
}

/** a + b, shape of a (b same size, or a suffix of a's shape). */
export function add(a: Tensor, b: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const device = sameDevice('add', a, b);
  broadcastCheck('add', a, b);
  const out = outputOr('add', 'out', opts.out, a.shape, device, 'f32', true);
  getKernel('addForward', device)({ a, b, out });
  return out;
}

/** a * b elementwise, shape of a (b same size, or a suffix of a's shape). */
export function mul(a: Tensor, b: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const device = sameDevice('mul', a, b);
  broadcastCheck('mul', a, b);
  const out = outputOr('mul', 'out', opts.out, a.shape, device, 'f32', true);
  getKernel('mulForward', device)({ a, b, out });
  return out;
}

/** alpha * a, a new tensor (or written into opts.out, which may be a itself). */
export function scale(a: Tensor, alpha: number, opts: { out?: Tensor } = {}): Tensor {
  expectDtype('scale', 'a', a, 'f32');
  const out = outputOr('scale', 'out', opts.out, a.shape, a.device);
  getKernel('scaleForward', a.device)({ a, out, alpha, beta: 0 });
  return out;
}

/** out += alpha * a, in place; returns out. */
export function axpy(out: Tensor, alpha: number, a: Tensor): Tensor {
  const device = sameDevice('axpy', out, a);
  expectDtype('axpy', 'a', a, 'f32');
  outputOr('axpy', 'out', out, a.shape, device);
  getKernel('scaleForward', device)({ a, out, alpha, beta: 1 });
  return out;
}
