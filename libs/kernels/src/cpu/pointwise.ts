// cpu kernels over flat buffers and rows: copy and fill, elementwise add/mul/scale, sumRows, embedding gather/scatter,
// RMSNorm, RoPE and SwiGLU. Each reads sizes off the tensors (as the ref does) and makes one native call.
import type { KernelSignatures } from '../kernel-signatures';
import type { NativeAddon } from './native';

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
    copyForward: ({ src, out }) => addon.copyForward(src.data, out.data, src.size),
    copyAtForward: ({ src, out, at }) => {
      const [b, t] = src.shape;
      addon.copyAtForward(src.data, out.data, at, b, t, out.shape[1], src.size / (b * t));
    },
    fillForward: ({ out, value }) => addon.fillForward(out.data, out.size, value),
    addForward: ({ a, b, out }) => addon.addForward(a.f32, b.f32, out.f32, a.size, b.size),
    mulForward: ({ a, b, out }) => addon.mulForward(a.f32, b.f32, out.f32, a.size, b.size),
    scaleForward: ({ a, out, alpha, beta }) => addon.scaleForward(a.f32, out.f32, a.size, alpha, beta),
    sumRowsForward: ({ a, out, accumulate }) =>
      addon.sumRowsForward(a.f32, out.f32, out.size === 0 ? 0 : a.size / out.size, out.size, accumulate),
    embeddingForward: ({ table, ids, out }) => {
      const [v, c] = table.shape;
      addon.embeddingForward(table.f32, ids.i32, out.f32, ids.size, c, v);
    },
    embeddingBackward: ({ dOut, ids, dTable }) => {
      const [v, c] = dTable.shape;
      addon.embeddingBackward(dOut.f32, ids.i32, dTable.f32, ids.size, c, v);
    },
    rmsnormForward: ({ x, w, eps, y, rstd }) => addon.rmsnormForward(x.f32, w.f32, y.f32, rstd.f32, rstd.size, w.size, eps),
    rmsnormBackward: ({ dy, x, w, rstd, dx, dw }) =>
      addon.rmsnormBackward(dy.f32, x.f32, w.f32, rstd.f32, dx.f32, dw.f32, rstd.size, w.size),
    ropeForward: ({ x, positions, theta, out, inverse }) => {
      const [b, t, h, d] = x.shape;
      if (d > 2048) throw new Error(`rope (cpu): head dim D = ${d} is above the supported 2048`);
      addon.ropeForward(x.f32, positions.i32, out.f32, b, t, h, d, theta, inverse);
    },
    swigluForward: ({ gate, up, out }) => addon.swigluForward(gate.f32, up.f32, out.f32, gate.size),
    swigluBackward: ({ dOut, gate, up, dGate, dUp }) => addon.swigluBackward(dOut.f32, gate.f32, up.f32, dGate.f32, dUp.f32, gate.size),
  };
}
