// Every backward kernel of `ref` against central finite differences in float64 (the ref kernels are
// written over plain arrays, so these tests feed them Float64Array). Loss = sum(out * R) for a fixed random
// R, so dOut = R. Tolerance: atol 1e-7 + rtol 1e-6 (eps 1e-5: truncation ~1e-10, rounding ~1e-11).
import { Rng } from '@lwz/core';
import { matmul, tensor, sumRows, add } from './index';
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
