// The cuda kernel table: each contract kernel (kernel-signatures.ts) reads sizes off the tensors and makes one
// addon call with device pointers (views included: storage pointer + offset) (f32 storage: the Tensor has no bf16 dtype yet; the kernels compute products
// on bf16 tensor cores with f32 accumulation). LWZ_CUDA_CHECK_FINITE=1 adds the overflow check of bf16
// training after every kernel: a NaN/Inf in an output throws, naming the kernel (slow: it synchronises).
import type { KernelSignatures } from '../kernel-signatures';
import type { KernelName } from '../registry';
import type { Tensor } from '../tensor';
import { gemmDims } from '../ops/matmul-shapes';
import { kvShape } from '../kv-layout';
import { cudaAddon } from './current';

const F32 = 0;
const I32 = 2;

/** Device address of a tensor's first value: its storage's pointer plus its element offset (4-byte elements). */
function p(t: Tensor): number {
  return (t.handle as number) + t.offset * 4;
}

function dtypeCode(t: Tensor): number {
  return t.dtype === 'f32' ? F32 : I32;
}

function lastDim(t: Tensor): number {
  return t.shape[t.rank - 1];
}

const table: KernelSignatures = {
  copyForward: ({ src, out }) => cudaAddon().copy(p(src), dtypeCode(src), p(out), dtypeCode(out), src.size),
  copyAtForward: ({ src, out, at, heads }) => {
    // One launch for the whole batch (positions passed by value), not one device copy per row.
    const [b, t] = src.shape;
    const e = b * t === 0 ? 0 : src.size / (b * t * heads); // values per (position, head)
    cudaAddon().copyAt(p(src), dtypeCode(src), p(out), dtypeCode(out), at, b, t, e === 0 ? 0 : out.size / (b * heads * e), e, heads);
  },
  fillForward: ({ out, value }) => cudaAddon().fill(p(out), dtypeCode(out), out.size, value),
  matmulForward: ({ a, b, out, transA, transB, alpha, accumulate }) => {
    const { batch, m, n, k, bBatched } = gemmDims(a, b, transA, transB);
    cudaAddon().matmul(p(a), F32, p(b), F32, p(out), F32, batch, m, n, k, bBatched, transA, transB, alpha, accumulate);
  },
  addForward: ({ a, b, out }) => cudaAddon().add(p(a), p(b), p(out), F32, a.size, b.size),
  mulForward: ({ a, b, out }) => cudaAddon().mul(p(a), p(b), p(out), F32, a.size, b.size),
  scaleForward: ({ a, out, alpha, beta }) => cudaAddon().scale(p(a), p(out), F32, a.size, alpha, beta),
  sumRowsForward: ({ a, out, accumulate }) =>
    cudaAddon().sumRows(p(a), F32, p(out), out.size === 0 ? 0 : a.size / out.size, out.size, accumulate),
  embeddingForward: ({ table: tbl, ids, out }) => {
    const [v, c] = tbl.shape;
    cudaAddon().embeddingForward(p(tbl), p(ids), p(out), F32, ids.size, c, v);
  },
  embeddingBackward: ({ dOut, ids, dTable }) => {
    const [v, c] = dTable.shape;
    cudaAddon().embeddingBackward(p(dOut), F32, p(ids), p(dTable), ids.size, c, v);
  },
  rmsnormForward: ({ x, w, eps, y, rstd }) => cudaAddon().rmsnormForward(p(x), p(w), p(y), p(rstd), F32, rstd.size, w.size, eps),
  rmsnormBackward: ({ dy, x, w, rstd, dx, dw }) =>
    cudaAddon().rmsnormBackward(p(dy), p(x), p(w), p(rstd), p(dx), p(dw), F32, rstd.size, w.size),
  ropeForward: ({ x, positions, theta, out, inverse }) => {
    const [b, t, h, d] = x.shape;
    cudaAddon().rope(p(x), p(positions), p(out), F32, b, t, h, d, theta, inverse);
  },
  attentionForward: ({ q, k, v, qOffset, kvStart, scale, kvLayout, out, lse }) => {
    const [b, t, h, d] = q.shape;
    const [, s, hkv] = kvShape(k, kvLayout);
    const headMajor = kvLayout === 'bhsd';
    cudaAddon().attentionForward(p(q), p(k), p(v), p(qOffset), p(kvStart), p(out), p(lse), F32, b, t, s, h, hkv, d, scale, headMajor);
  },
  attentionBackward: ({ q, k, v, qOffset, kvStart, scale, kvLayout, out, lse, dOut, dq, dk, dv }) => {
    if (kvLayout !== 'bshd') throw new Error(`attentionBackward (cuda): k/v must be 'bshd', got '${kvLayout}'`);
    const [b, t, h, d] = q.shape;
    const [, s, hkv] = k.shape;
    const [pq, pk, pv, po, pl, pd] = [q, k, v, out, lse, dOut].map(p);
    cudaAddon().attentionBackward(pq, pk, pv, p(qOffset), p(kvStart), po, pl, pd, p(dq), p(dk), p(dv), F32, b, t, s, h, hkv, d, scale);
  },
  swigluForward: ({ gate, up, out }) => cudaAddon().swigluForward(p(gate), p(up), p(out), F32, gate.size),
  swigluBackward: ({ dOut, gate, up, dGate, dUp }) => cudaAddon().swigluBackward(p(dOut), p(gate), p(up), p(dGate), p(dUp), F32, gate.size),
  softmaxForward: ({ x, out, log }) => {
    const v = lastDim(x);
    cudaAddon().softmax(p(x), p(out), F32, v === 0 ? 0 : x.size / v, v, log);
  },
  tokenLogprobsForward: ({ logits, targets, logprobs, lse }) => {
    const [n, v] = logits.shape;
    cudaAddon().tokenLogprobsForward(p(logits), p(targets), p(logprobs), p(lse), F32, n, v);
  },
  tokenLogprobsBackward: ({ dLogprobs, logits, targets, lse, dLogits }) => {
    const [n, v] = logits.shape;
    cudaAddon().tokenLogprobsBackward(p(dLogprobs), p(logits), p(targets), p(lse), p(dLogits), F32, n, v);
  },
  entropyForward: ({ logits, entropy }) => cudaAddon().entropy(p(logits), p(entropy), F32, entropy.size, lastDim(logits)),
  adamwStep: ({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step }) =>
    cudaAddon().adamw(p(param), p(grad), F32, p(m), p(v), param.size, lr, beta1, beta2, eps, weightDecay, step),
  sumSquares: ({ x }) => cudaAddon().sumSquares(p(x), F32, x.size),
  sampleForward: ({ logits, uniforms, temperature, topK, topP, ids }) =>
    cudaAddon().sample(p(logits), p(uniforms), p(ids), F32, ids.size, lastDim(logits), temperature, topK, topP),
};

/** The outputs LWZ_CUDA_CHECK_FINITE inspects per kernel (lse and log-softmax may legitimately hold -Inf). */
const FINITE_OUTPUTS: Partial<Record<KernelName, string[]>> = {
  matmulForward: ['out'],
  addForward: ['out'],
  mulForward: ['out'],
  scaleForward: ['out'],
  sumRowsForward: ['out'],
  embeddingForward: ['out'],
  embeddingBackward: ['dTable'],
  rmsnormForward: ['y', 'rstd'],
  rmsnormBackward: ['dx', 'dw'],
  ropeForward: ['out'],
  attentionForward: ['out'],
  attentionBackward: ['dq', 'dk', 'dv'],
  swigluForward: ['out'],
  swigluBackward: ['dGate', 'dUp'],
  tokenLogprobsForward: ['logprobs'],
  tokenLogprobsBackward: ['dLogits'],
  entropyForward: ['entropy'],
  adamwStep: ['param', 'm', 'v'],
};

function withFiniteCheck<K extends KernelName>(name: K, fn: KernelSignatures[K]): KernelSignatures[K] {
  const outputs = FINITE_OUTPUTS[name];
  if (!outputs) return fn;
  const wrapped = (args: Record<string, unknown>) => {
    const result = (fn as (a: Record<string, unknown>) => unknown)(args);
    for (const key of outputs) {
      const t = args[key] as Tensor;
      const bad = cudaAddon().countNonFinite(p(t), F32, t.size);
      if (bad > 0) throw new Error(`cuda ${name}: ${bad} NaN/Inf value(s) in ${key} [${t.shape.join(', ')}] (LWZ_CUDA_CHECK_FINITE=1)`);
    }
    return result;
  };
  return wrapped as unknown as KernelSignatures[K];
}

/** Every contract kernel for the cuda device (with the finite check when LWZ_CUDA_CHECK_FINITE=1). */
export function cudaKernels(checkFinite = process.env.LWZ_CUDA_CHECK_FINITE === '1'): [KernelName, KernelSignatures[KernelName]][] {
  return (Object.keys(table) as KernelName[]).map((name) => [name, checkFinite ? withFiniteCheck(name, table[name]) : table[name]]);
}
