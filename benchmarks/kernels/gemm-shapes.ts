// The GEMM/GEMV shapes the standalone comparisons time (gemm-vs-blas.ts against the system BLAS, addon-ab.ts
// between two builds of the addon): the kernels suite's, the model's own and the decode batches'.

/** [label, M, K, N, transA, transB]: op(A) (M, K) @ op(B) (K, N) */
export type GemmShape = [string, number, number, number, boolean, boolean];

export const GEMM_SHAPES: GemmShape[] = [
  ['matmul 512^3', 512, 512, 512, false, false],
  ['matmul 1024^3', 1024, 1024, 1024, false, false],
  ['matmul 2048x512x2048', 2048, 512, 2048, false, false],
  ['gemv 1x4096x4096', 1, 4096, 4096, false, false],
  ['gemv 1x4096x4096 Bt', 1, 4096, 4096, false, true],
  ['decode 8x4096x4096 Bt', 8, 4096, 4096, false, true],
  ['decode 16x4096x4096 Bt', 16, 4096, 4096, false, true],
  ['decode 32x4096x4096 Bt', 32, 4096, 4096, false, true],
  ['decode 64x4096x4096 Bt', 64, 4096, 4096, false, true],
  ['matmul 64x4096x4096', 64, 4096, 4096, false, false],
  ['model x W^T 2048x256x1024', 2048, 256, 1024, false, true],
  ['model x W^T 2048x1024x256', 2048, 1024, 256, false, true],
  ['model dy W 2048x1024x256', 2048, 1024, 256, false, false],
  ['model dy^T x 1024x2048x256', 1024, 2048, 256, true, false],
  ['model dy^T x 256x2048x256', 256, 2048, 256, true, false],
  ['model head 2048x256x4096 Bt', 2048, 256, 4096, false, true],
  ['model head dx 2048x4096x256', 2048, 4096, 256, false, false],
  ['model head dW 4096x2048x256', 4096, 2048, 256, true, false],
];

/**
 * The ~100M model's batch-1 decode GEMVs (layer.ts: q/k/v and gate/up fused); 1.3-18 MiB, so unlike in the
 * decode, where 430 MB of weights stream per token, they are read from L3 after the first call.
 */
export const DECODE_100M_GEMVS: GemmShape[] = [
  ['100M qkv 1x768x1280 Bt', 1, 768, 1280, false, true],
  ['100M o 1x768x768 Bt', 1, 768, 768, false, true],
  ['100M gate/up 1x768x6144 Bt', 1, 768, 6144, false, true],
  ['100M down 1x3072x768 Bt', 1, 3072, 768, false, true],
  ['100M head 1x768x4096 Bt', 1, 768, 4096, false, true],
  ['gemv 1x3072x768', 1, 3072, 768, false, false],
];
