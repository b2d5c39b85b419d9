// Kernel suite (issue #2): GEMM/GEMV shapes from the model's layers, causal attention forward+backward,
// RMSNorm and AdamW, timed through the ops with preallocated outputs (`out` options: no allocation is timed). Each
// case states its arithmetic (FLOPs or bytes moved). Shapes are the named ones in every mode, smoke included.
// Not a correctness check: libs/kernels' conformance tests own that.
import { fileURLToPath } from 'node:url';
import { Rng } from '@lwz/core';
import { attention, attentionBackward, matmul } from '@lwz/kernels';
import type { BenchCase, BenchSuite, SuiteContext, TimedCase } from '../suite';
import { disposeAll, missingKernels, randomTensor, zerosOn } from './inputs';
import { adamwCase, bandwidthBaseline, rmsnormCase } from './memory-cases';

/** out (M, N) = a (M, K) @ b (K, N); the OpenBLAS harness runs the same shape (sgemv when M = 1). */
function matmulCase(name: string, m: number, k: number, n: number): TimedCase {
  return {
    name,
    params: { M: m, K: k, N: n },
    work: { amount: 2 * m * n * k, unit: 'FLOP', formula: '2*M*N*K' },
    alsoWork: { amount: 4 * (m * k + k * n + m * n), unit: 'B', formula: '4*(M*K + K*N + M*N)' },
    baseline: { openblas: m === 1 ? ['sgemv', String(k), String(n)] : ['sgemm', String(m), String(k), String(n)] },
    setup(ctx) {
      const skip = missingKernels(['matmulForward'], ctx.device);
      if (skip) return skip;
      const rng = new Rng(1);
      const a = randomTensor([m, k], rng, ctx.device); // (M, K)
      const b = randomTensor([k, n], rng, ctx.device); // (K, N)
      const out = zerosOn([m, n], ctx.device); // (M, N)
      return {
        fn: () => matmul(a, b, { out }),
        dispose: () => disposeAll(a, b, out),
      };
    },
  };
}

/** Attention head layout used by every attention case (Qwen2.5-0.5B-like GQA: 8 query heads share 2 KV heads). */
export const ATTN = { B: 1, H: 8, Hkv: 2, D: 64 } as const;

/** Causal self-attention forward + backward at sequence length T (flash-style FLOP count, FA2 convention). */
function attentionCase(t: number): TimedCase {
  const { B, H, Hkv, D } = ATTN;
  const pairs = (t * (t + 1)) / 2; // visible (query, key) pairs per head under the causal mask
  return {
    name: `attention fwd+bwd T=${t}`,
    params: { B, T: t, H, Hkv, D, causal: true },
    work: {
      amount: 14 * D * B * H * pairs,
      unit: 'FLOP',
      formula: 'fwd 4*D + bwd 10*D per causal pair, *B*H*T(T+1)/2',
    },
    setup(ctx) {
      const skip = missingKernels(['attentionForward', 'attentionBackward'], ctx.device);
      if (skip) return skip;
      const rng = new Rng(2);
      const q = randomTensor([B, t, H, D], rng, ctx.device); // (B, T, H, D)
      const k = randomTensor([B, t, Hkv, D], rng, ctx.device); // (B, S=T, Hkv, D)
      const v = randomTensor([B, t, Hkv, D], rng, ctx.device); // (B, S=T, Hkv, D)
      const dOut = randomTensor([B, t, H, D], rng, ctx.device); // (B, T, H, D)
      const qOffset = zerosOn([B], ctx.device, 'i32'); // (B,) plain causal: query i sees keys 0..i
      const kvStart = zerosOn([B], ctx.device, 'i32'); // (B,) no left padding
      const out = zerosOn([B, t, H, D], ctx.device); // (B, T, H, D)
      const lse = zerosOn([B, H, t], ctx.device); // (B, H, T)
      const dq = zerosOn([B, t, H, D], ctx.device);
      const dk = zerosOn([B, t, Hkv, D], ctx.device);
      const dv = zerosOn([B, t, Hkv, D], ctx.device);
      const opts = { qOffset, kvStart, scale: 1 / Math.sqrt(D) };
      return {
        fn: () => {
          attention(q, k, v, { ...opts, out, lse });
          attentionBackward(q, k, v, out, lse, dOut, { ...opts, dq, dk, dv });
        },
        dispose: () => disposeAll(q, k, v, dOut, qOffset, kvStart, out, lse, dq, dk, dv),
      };
    },
  };
}

const suite: BenchSuite = {
  suite: 'kernels',
  description: 'GEMM/GEMV, causal attention fwd+bwd, RMSNorm, AdamW (ops with preallocated outputs)',
  cases(_ctx: SuiteContext): BenchCase[] {
    return [
      matmulCase('matmul 512^3', 512, 512, 512),
      matmulCase('matmul 1024^3', 1024, 1024, 1024),
      matmulCase('matmul 2048x512x2048', 2048, 512, 2048),
      matmulCase('gemv 1x4096x4096', 1, 4096, 4096),
      matmulCase('matmul 64x4096x4096', 64, 4096, 4096),
      attentionCase(1024),
      attentionCase(4096),
      rmsnormCase('fwd', 8192, 1024),
      rmsnormCase('bwd', 8192, 1024),
      adamwCase(5_000_000),
    ];
  },
  baselines: {
    openblas: {
      kind: 'c-harness',
      source: fileURLToPath(new URL('./openblas/harness.c', import.meta.url)),
      header: 'cblas.h',
      library: 'openblas',
      threadsEnv: 'OPENBLAS_NUM_THREADS',
      install: 'sudo apt-get install libopenblas-dev',
    },
    bandwidth: bandwidthBaseline,
  },
};

export default suite;
