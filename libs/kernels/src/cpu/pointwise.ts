// cpu kernels over flat buffers and rows: copy and fill, elementwise add/mul/scale, sumRows, embedding gather/scatter,
// RMSNorm, RoPE and SwiGLU. Each reads sizes off the tensors (as the ref does) and makes one native call.
import type { KernelSignatures } from '../kernel-signatures';
import type { NativeAddon } from './native';
import { f32, i32, raw } from './views';

type Pointwise = Pick<
  KernelSignatures,
  | 'copyForward'
  | 'copyAtForward'
  | 'fillForward'
  | 'addForward'
  | 'mulForward'
  | 'scaleForward'
  | 'sumRowsForward'
  | 'embeddingForward'
  | 'embeddingBackward'
  | 'rmsnormForward'
  | 'rmsnormBackward'
  | 'ropeForward'
  | 'swigluForward'
  | 'swigluBackward'
>;

export function pointwiseKernels(addon: NativeAddon): Pointwise {
  return {
    copyForward: ({ src, out }) => addon.copyForward(raw(src), raw(out), src.size),
    copyAtForward: ({ src, out, at, heads }) => {
      const [b, t] = src.shape;
      const e = src.size / (b * t * heads); // values per (position, head)
      addon.copyAtForward(raw(src), raw(out), at, b, t, out.size / (b * heads * e), e, heads);
    },
    fillForward: ({ out, value }) => addon.fillForward(raw(out), out.size, value),
    addForward: ({ a, b, out }) => addon.addForward(f32(a), f32(b), f32(out), a.size, b.size),
    mulForward: ({ a, b, out }) => addon.mulForward(f32(a), f32(b), f32(out), a.size, b.size),
    scaleForward: ({ a, out, alpha, beta }) => addon.scaleForward(f32(a), f32(out), a.size, alpha, beta),
    sumRowsForward: ({ a, out, accumulate }) =>
      addon.sumRowsForward(f32(a), f32(out), out.size === 0 ? 0 : a.size / out.size, out.size, accumulate),
    embeddingForward: ({ table, ids, out }) => {
      const [v, c] = table.shape;
      addon.embeddingForward(f32(table), i32(ids), f32(out), ids.size, c, v);
    },
    embeddingBackward: ({ dOut, ids, dTable }) => {
      const [v, c] = dTable.shape;
      addon.embeddingBackward(f32(dOut), i32(ids), f32(dTable), ids.size, c, v);
    },
    rmsnormForward: ({ x, w, eps, y, rstd }) => addon.rmsnormForward(f32(x), f32(w), f32(y), f32(rstd), rstd.size, w.size, eps),
    rmsnormBackward: ({ dy, x, w, rstd, dx, dw }) =>
      addon.rmsnormBackward(f32(dy), f32(x), f32(w), f32(rstd), f32(dx), f32(dw), rstd.size, w.size),
    ropeForward: ({ x, positions, theta, out, inverse }) => {
      const [b, t, h, d] = x.shape;
      if (d > 2048) throw new Error(`rope (cpu): head dim D = ${d} is above the supported 2048`);
      addon.ropeForward(f32(x), i32(positions), f32(out), b, t, h, d, theta, inverse);
    },
    swigluForward: ({ gate, up, out }) => addon.swigluForward(f32(gate), f32(up), f32(out), gate.size),
    swigluBackward: ({ dOut, gate, up, dGate, dUp }) =>
      addon.swigluBackward(f32(dOut), f32(gate), f32(up), f32(dGate), f32(dUp), gate.size),
  };
}
