// Every backward kernel of `ref` against central finite differences in float64 (the ref kernels are
// written over plain arrays, so these tests feed them Float64Array), every entry of every input. Loss =
// sum(out * R) for a fixed random R, so dOut = R. Tolerance: atol 1e-7 + rtol 1e-6 (eps 1e-5: truncation
// ~1e-10, rounding ~1e-11). Then every backward op on every available backend (f32, through the ops)
// against the same float64 differences, every entry: a backend's gradients are checked on their own, not
// only through their agreement with ref. Tolerance there: atol 2e-5 + rtol 1e-4 (float32 arithmetic).
import { Rng } from '@lwz/core';
import {
  add,
  attention,
  attentionBackward,
  availableDevices,
  embeddingBackward,
  matmul,
  rmsnorm,
  rmsnormBackward,
  rope,
  sumRows,
  swigluBackward,
  tensor,
  tokenLogprobs,
  tokenLogprobsBackward,
  zeros,
  type Device,
} from './index';
import { dot, numericGrad, randomF64 } from './testing/numeric';
import { rmsnormBackwardArrays, rmsnormForwardArrays } from './ref/rmsnorm';
import { ropeArrays } from './ref/rope';
import { attentionForwardArrays, type AttentionDims } from './ref/attention-forward';
import { attentionBackwardArrays } from './ref/attention-backward';
import { swigluBackwardArrays, swigluForwardArrays } from './ref/swiglu';
import { tokenLogprobsArrays, tokenLogprobsBackwardArrays } from './ref/token-logprobs';
import { embeddingBackwardArrays, embeddingForwardArrays } from './ref/embedding';

const tol = { atol: 1e-7, rtol: 1e-6 };

describe('ref backward passes vs finite differences (float64)', () => {
  it('rmsnorm: dx, and dw accumulated onto its old value', () => {
    const rng = new Rng(1);
    const [n, c, eps] = [3, 5, 1e-6];
    const x = randomF64(rng, n * c);
    const w = randomF64(rng, c);
    const R = randomF64(rng, n * c);
    const loss = () => {
      const y = new Float64Array(n * c);
      rmsnormForwardArrays(x, w, y, new Float64Array(n), n, c, eps);
      return dot(y, R);
    };
    const rstd = new Float64Array(n);
    rmsnormForwardArrays(x, w, new Float64Array(n * c), rstd, n, c, eps);
    const dx = new Float64Array(n * c);
    const dw = new Float64Array(c).fill(0.5);
    rmsnormBackwardArrays(R, x, w, rstd, dx, dw, n, c);
    expect(dx).toBeAllClose(numericGrad(x, loss), tol);
    expect(dw.map((g) => g - 0.5)).toBeAllClose(numericGrad(w, loss), tol);
  });

  it('rope: the inverse rotation is the backward', () => {
    const rng = new Rng(2);
    const dims = { b: 2, t: 3, h: 2, d: 6 };
    const size = 2 * 3 * 2 * 6;
    const x = randomF64(rng, size);
    const positions = [0, 1, 2, 7, 8, 9000];
    const R = randomF64(rng, size);
    const loss = () => {
      const y = new Float64Array(size);
      ropeArrays(x, positions, y, dims, 10000, false);
      return dot(y, R);
    };
    const dx = new Float64Array(size);
    ropeArrays(R, positions, dx, dims, 10000, true);
    expect(dx).toBeAllClose(numericGrad(x, loss), tol);
  });

  it.each([
    ['GQA 1, self-attention', { b: 1, t: 4, s: 4, h: 2, hkv: 2, d: 3 }, [0], [0]],
    ['GQA 2, KV prefix, left padding', { b: 2, t: 3, s: 5, h: 4, hkv: 2, d: 3 }, [2, 2], [0, 1]],
    ['GQA 4, T = 1 decode', { b: 2, t: 1, s: 6, h: 4, hkv: 1, d: 5 }, [5, 5], [2, 0]],
    ['a query that sees no key', { b: 1, t: 3, s: 3, h: 2, hkv: 1, d: 2 }, [0], [1]],
  ] as [string, AttentionDims, number[], number[]][])('attention: dq, dk, dv (%s)', (_name, dims, qOffset, kvStart) => {
    const rng = new Rng(3);
    const qSize = dims.b * dims.t * dims.h * dims.d;
    const kSize = dims.b * dims.s * dims.hkv * dims.d;
    const a = { q: randomF64(rng, qSize), k: randomF64(rng, kSize), v: randomF64(rng, kSize), qOffset, kvStart };
    const scale = 0.7;
    const R = randomF64(rng, qSize);
    const out = new Float64Array(qSize);
    const lse = new Float64Array(dims.b * dims.h * dims.t);
    const loss = () => {
      attentionForwardArrays(a, dims, scale, out, lse);
      return dot(out, R);
    };
    const num = { q: numericGrad(a.q, loss), k: numericGrad(a.k, loss), v: numericGrad(a.v, loss) };
    loss();
    const g = { out, lse, dOut: R, dq: new Float64Array(qSize), dk: new Float64Array(kSize), dv: new Float64Array(kSize) };
    attentionBackwardArrays(a, g, dims, scale);
    expect(g.dq).toBeAllClose(num.q, tol);
    expect(g.dk).toBeAllClose(num.k, tol);
    expect(g.dv).toBeAllClose(num.v, tol);
  });

  it('swiglu: dGate, dUp', () => {
    const rng = new Rng(4);
    const n = 17;
    const gate = randomF64(rng, n, 3);
    const up = randomF64(rng, n);
    const R = randomF64(rng, n);
    const loss = () => {
      const out = new Float64Array(n);
      swigluForwardArrays(gate, up, out, n);
      return dot(out, R);
    };
    const dGate = new Float64Array(n);
    const dUp = new Float64Array(n);
    swigluBackwardArrays(R, gate, up, dGate, dUp, n);
    expect(dGate).toBeAllClose(numericGrad(gate, loss), tol);
    expect(dUp).toBeAllClose(numericGrad(up, loss), tol);
  });

  it('tokenLogprobs: dLogits with a per-row weight and a masked row, also written in place', () => {
    const rng = new Rng(5);
    const [n, v] = [4, 7];
    const logits = randomF64(rng, n * v, 2);
    const targets = [3, -1, 0, 6];
    const weight = randomF64(rng, n);
    const loss = () => {
      const lp = new Float64Array(n);
      tokenLogprobsArrays(logits, targets, lp, new Float64Array(n), n, v);
      return dot(lp, weight);
    };
    const lse = new Float64Array(n);
    tokenLogprobsArrays(logits, targets, new Float64Array(n), lse, n, v);
    const num = numericGrad(logits, loss);
    const dLogits = new Float64Array(n * v);
    tokenLogprobsBackwardArrays(weight, logits, targets, lse, dLogits, n, v);
    expect(dLogits).toBeAllClose(num, tol);
    expect(Array.from(dLogits.subarray(v, 2 * v))).toEqual(new Array(v).fill(0));
    tokenLogprobsBackwardArrays(weight, logits, targets, lse, logits, n, v);
    expect(logits).toBeAllClose(dLogits, { atol: 0, rtol: 0 });
  });

  it('embedding: scatter-add backward with repeated ids', () => {
    const rng = new Rng(6);
    const [v, c] = [5, 3];
    const ids = [4, 1, 4, 0, 4];
    const table = randomF64(rng, v * c);
    const R = randomF64(rng, ids.length * c);
    const loss = () => {
      const out = new Float64Array(ids.length * c);
      embeddingForwardArrays(table, ids, out, ids.length, c, v);
      return dot(out, R);
    };
    const dTable = new Float64Array(v * c);
    embeddingBackwardArrays(R, ids, dTable, ids.length, c, v);
    expect(dTable).toBeAllClose(numericGrad(table, loss), tol);
  });

  it('matmul: dA = dC B^T and dB = A^T dC (exact on small integers, f32 tensors)', () => {
    const rng = new Rng(7);
    const [m, k, n] = [3, 4, 5];
    const ints = (len: number) => Float32Array.from({ length: len }, () => rng.int(7) - 3);
    const A = ints(m * k);
    const B = ints(k * n);
    const R = ints(m * n);
    const d = { device: 'ref' as const };
    const loss = () => dot(matmul(tensor(A, [m, k], d), tensor(B, [k, n], d)).toHost(), R);
    const dA = matmul(tensor(R, [m, n], d), tensor(B, [k, n], d), { transB: true }).toHost();
    const dB = matmul(tensor(A, [m, k], d), tensor(R, [m, n], d), { transA: true }).toHost();
    // the loss is linear in A and B, so a central difference with step 1 is exact on integers
    const num = (x: Float32Array) => numericGrad(x as unknown as Float64Array, loss, 1);
    expect(dA).toBeAllClose(num(A), { atol: 0, rtol: 0 });
    expect(dB).toBeAllClose(num(B), { atol: 0, rtol: 0 });
  });

  it('sumRows is the backward of a broadcast bias add', () => {
    const rng = new Rng(8);
    const ints = (len: number) => Float32Array.from({ length: len }, () => rng.int(9) - 4);
    const x = ints(6 * 3);
    const bias = ints(3);
    const R = ints(6 * 3);
    const d = { device: 'ref' as const };
    const loss = () => dot(add(tensor(x, [6, 3], d), tensor(bias, [3], d)).toHost(), R);
    const dBias = sumRows(tensor(R, [6, 3], d)).toHost();
    expect(dBias).toBeAllClose(numericGrad(bias as unknown as Float64Array, loss, 1), { atol: 0, rtol: 0 });
  });
});

/** float32-representable float64 values (so the f32 backends and the float64 differences see the same point) */
function f32Values(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from(Float32Array.from(randomF64(rng, n, scale)));
}

describe.each(availableDevices())('backward ops on %s vs float64 finite differences (every entry)', (device: Device) => {
  const ftol = { atol: 2e-5, rtol: 1e-4 };
  const f = (x: Float64Array, shape: number[]) => tensor(Float32Array.from(x), shape, { device });
  const i32 = (x: number[], shape: number[]) => tensor(Int32Array.from(x), shape, { device, dtype: 'i32' });

  it('rmsnorm: dx and dw', () => {
    const rng = new Rng(11);
    const [n, c, eps] = [3, 7, 1e-6];
    const [x, w, R] = [f32Values(rng, n * c), f32Values(rng, c), f32Values(rng, n * c)];
    const loss = () => {
      const y = new Float64Array(n * c);
      rmsnormForwardArrays(x, w, y, new Float64Array(n), n, c, eps);
      return dot(y, R);
    };
    const { rstd } = rmsnorm(f(x, [n, c]), f(w, [c]), eps);
    const dw = zeros([c], { device });
    const { dx } = rmsnormBackward(f(R, [n, c]), f(x, [n, c]), f(w, [c]), rstd, dw);
    expect(dx.toHost()).toBeAllClose(numericGrad(x, loss), ftol);
    expect(dw.toHost()).toBeAllClose(numericGrad(w, loss), ftol);
  });

  it('rope: the inverse rotation', () => {
    const rng = new Rng(12);
    const dims = { b: 2, t: 3, h: 2, d: 8 };
    const size = 2 * 3 * 2 * 8;
    const [x, R] = [f32Values(rng, size), f32Values(rng, size)];
    const positions = [0, 1, 2, 40, 41, 3000];
    const loss = () => {
      const y = new Float64Array(size);
      ropeArrays(x, positions, y, dims, 10000, false);
      return dot(y, R);
    };
    const dx = rope(f(R, [2, 3, 2, 8]), i32(positions, [2, 3]), 10000, { inverse: true });
    expect(dx.toHost()).toBeAllClose(numericGrad(x, loss), ftol);
  });

  it('attention: dq, dk, dv with GQA 2, a KV prefix and left padding', () => {
    const rng = new Rng(13);
    const dims: AttentionDims = { b: 2, t: 3, s: 5, h: 4, hkv: 2, d: 4 };
    const [qOffset, kvStart, scale] = [[2, 2], [0, 1], 0.6];
    const qSize = dims.b * dims.t * dims.h * dims.d;
    const kSize = dims.b * dims.s * dims.hkv * dims.d;
    const a = { q: f32Values(rng, qSize), k: f32Values(rng, kSize), v: f32Values(rng, kSize), qOffset, kvStart };
    const R = f32Values(rng, qSize);
    const loss = () => {
      const out = new Float64Array(qSize);
      attentionForwardArrays(a, dims, scale, out, new Float64Array(dims.b * dims.h * dims.t));
      return dot(out, R);
    };
    const [q, k, v] = [f(a.q, [2, 3, 4, 4]), f(a.k, [2, 5, 2, 4]), f(a.v, [2, 5, 2, 4])];
    const opts = { qOffset, kvStart, scale };
    const { out, lse } = attention(q, k, v, opts);
    const g = attentionBackward(q, k, v, out, lse, f(R, [2, 3, 4, 4]), opts);
    expect(g.dq.toHost()).toBeAllClose(numericGrad(a.q, loss), ftol);
    expect(g.dk.toHost()).toBeAllClose(numericGrad(a.k, loss), ftol);
    expect(g.dv.toHost()).toBeAllClose(numericGrad(a.v, loss), ftol);
  });

  it('swiglu: dGate, dUp', () => {
    const rng = new Rng(14);
    const n = 19;
    const [gate, up, R] = [f32Values(rng, n, 3), f32Values(rng, n), f32Values(rng, n)];
    const loss = () => {
      const out = new Float64Array(n);
      swigluForwardArrays(gate, up, out, n);
      return dot(out, R);
    };
    const { dGate, dUp } = swigluBackward(f(R, [n]), f(gate, [n]), f(up, [n]));
    expect(dGate.toHost()).toBeAllClose(numericGrad(gate, loss), ftol);
    expect(dUp.toHost()).toBeAllClose(numericGrad(up, loss), ftol);
  });

  it('tokenLogprobs: dLogits with per-row weights and a masked row', () => {
    const rng = new Rng(15);
    const [n, v] = [4, 9];
    const logits = f32Values(rng, n * v, 2);
    const targets = [3, -1, 0, 8];
    const weight = f32Values(rng, n);
    const loss = () => {
      const lp = new Float64Array(n);
      tokenLogprobsArrays(logits, targets, lp, new Float64Array(n), n, v);
      return dot(lp, weight);
    };
    const lg = f(logits, [n, v]);
    const t = i32(targets, [n]);
    const { lse } = tokenLogprobs(lg, t);
    expect(tokenLogprobsBackward(f(weight, [n]), lg, t, lse).toHost()).toBeAllClose(numericGrad(logits, loss), ftol);
  });

  it('embedding scatter-add, matmul and sumRows (linear: the differences are exact up to rounding)', () => {
    const rng = new Rng(16);
    const [V, C, ids] = [6, 3, [5, 1, 5, 0, 5]];
    const table = f32Values(rng, V * C);
    const Re = f32Values(rng, ids.length * C);
    const lossE = () => {
      const out = new Float64Array(ids.length * C);
      embeddingForwardArrays(table, ids, out, ids.length, C, V);
      return dot(out, Re);
    };
    const dTable = embeddingBackward(f(Re, [ids.length, C]), i32(ids, [ids.length]), zeros([V, C], { device }));
    expect(dTable.toHost()).toBeAllClose(numericGrad(table, lossE), ftol);
    const [m, k, n] = [3, 4, 5];
    const [A, B, R] = [f32Values(rng, m * k), f32Values(rng, k * n), f32Values(rng, m * n)];
    const lossM = () => dot(matmul(f(A, [m, k]), f(B, [k, n])).toHost(), R);
    const dA = matmul(f(R, [m, n]), f(B, [k, n]), { transB: true }).toHost();
    const dB = matmul(f(A, [m, k]), f(R, [m, n]), { transA: true }).toHost();
    // f32 forward inside the loss: step 1e-2 keeps the rounding of the difference near 1e-5
    expect(dA).toBeAllClose(numericGrad(A, lossM, 1e-2), { atol: 1e-4, rtol: 1e-4 });
    expect(dB).toBeAllClose(numericGrad(B, lossM, 1e-2), { atol: 1e-4, rtol: 1e-4 });
    const [x, bias, Rb] = [f32Values(rng, 6 * 3), f32Values(rng, 3), f32Values(rng, 6 * 3)];
    const lossB = () => dot(add(f(x, [6, 3]), f(bias, [3])).toHost(), Rb);
    expect(sumRows(f(Rb, [6, 3])).toHost()).toBeAllClose(numericGrad(bias, lossB, 1e-2), { atol: 1e-4, rtol: 1e-4 });
  });
});
