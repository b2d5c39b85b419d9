// Our own bf16 tensor-core GEMM (the fallback when cuBLASLt is absent, and its cross-check in the lab): WMMA
// 16x16x16 bf16 fragments with f32 accumulators (mma.sync on sm_80 and sm_90). Block tile 128x128x32, 8 warps
// of 32x64; operands are converted to bf16 while staging into shared memory, so f32 or bf16 inputs, any
// transposes and ragged edges (zero padding) take the same path. Deliberately simple: no cp.async pipeline, no
// swizzle, no wgmma; the lab times it against cuBLASLt and torch.matmul.
#include <mma.h>

#include "common.cuh"
#include "gemm.h"

namespace lwz {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int BM = 128, BN = 128, BK = 32, THREADS = 256;
constexpr int LDA = BK + 8;  // sA row stride (bf16): 40, a multiple of 8 as WMMA needs
constexpr int LDB = BN + 8;  // sB row stride (bf16): 136

template <typename TA, typename TB, typename TO>
__global__ void __launch_bounds__(THREADS)
    gemmKernel(const TA* __restrict__ a, const TB* __restrict__ b, TO* __restrict__ out, int64_t m, int64_t n, int64_t k, bool transA,
               bool transB, int64_t strideA, int64_t strideB, int64_t strideC, float alpha, bool accumulate) {
  __shared__ __align__(128) bf16 sA[BM * LDA];   // (BM, BK) tile of op(a), row-major
  __shared__ __align__(128) bf16 sB[BK * LDB];   // (BK, BN) tile of op(b), row-major
  __shared__ __align__(128) float sC[8][16 * 16];  // per-warp epilogue staging

  const int64_t bt = blockIdx.z;
  a += bt * strideA;
  b += bt * strideB;
  out += bt * strideC;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int wm = warp >> 1, wn = warp & 1;  // warp tile: rows wm*32.., cols wn*64..

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][4];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) wmma::fill_fragment(acc[i][j], 0.f);

  for (int64_t k0 = 0; k0 < k; k0 += BK) {
    // op(a) tile: consecutive threads walk the contiguous axis of a in memory (k, or m when transposed)
#pragma unroll 4
    for (int e = tid; e < BM * BK; e += THREADS) {
      const int r = transA ? e % BM : e / BK, c = transA ? e / BM : e % BK;
      const int64_t gm = m0 + r, gk = k0 + c;
      float v = 0.f;
      if (gm < m && gk < k) v = ld(a, transA ? gk * m + gm : gm * k + gk);
      sA[r * LDA + c] = __float2bfloat16(v);
    }
    // op(b) tile: contiguous axis n, or k when transposed
#pragma unroll 4
    for (int e = tid; e < BK * BN; e += THREADS) {
      const int r = transB ? e % BK : e / BN, c = transB ? e / BK : e % BN;
      const int64_t gk = k0 + r, gn = n0 + c;
      float v = 0.f;
      if (gk < k && gn < n) v = ld(b, transB ? gn * k + gk : gk * n + gn);
      sB[r * LDB + c] = __float2bfloat16(v);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb[4];
#pragma unroll
      for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], sA + (wm * 32 + i * 16) * LDA + kk, LDA);
#pragma unroll
      for (int j = 0; j < 4; j++) wmma::load_matrix_sync(fb[j], sB + kk * LDB + wn * 64 + j * 16, LDB);
#pragma unroll
      for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }

  // epilogue: one 16x16 fragment at a time through shared memory, alpha and accumulate applied in f32
#pragma unroll
  for (int i = 0; i < 2; i++) {
#pragma unroll
    for (int j = 0; j < 4; j++) {
      wmma::store_matrix_sync(sC[warp], acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int64_t gm = m0 + wm * 32 + i * 16 + e / 16, gn = n0 + wn * 64 + j * 16 + e % 16;
        if (gm < m && gn < n) {
          const int64_t o = gm * n + gn;
          st(out, o, alpha * sC[warp][e] + (accumulate ? ld(out, o) : 0.f));
        }
      }
      __syncwarp();
    }
  }
}

template <typename TA, typename TB, typename TO>
int launch(const GemmArgs& g) {
  const dim3 grid(unsigned(ceilDiv(g.n, BN)), unsigned(ceilDiv(g.m, BM)), unsigned(g.batch));
  gemmKernel<TA, TB, TO><<<grid, THREADS, 0, stream()>>>(static_cast<const TA*>(g.a), static_cast<const TB*>(g.b),
                                                         static_cast<TO*>(g.out), g.m, g.n, g.k, g.transA, g.transB, g.m * g.k,
                                                         g.bBatched ? g.k * g.n : 0, g.m * g.n, g.alpha, g.accumulate);
  return checkLaunch("matmulForward (own tensor-core GEMM)");
}

template <typename TA, typename TB>
int withOut(const GemmArgs& g) {
  return g.odt == LWZ_BF16 ? launch<TA, TB, bf16>(g) : launch<TA, TB, float>(g);
}

}  // namespace

int gemmOwn(const GemmArgs& g) {
  if (ceilDiv(g.m, BM) > 65535 || g.batch > 65535) {
    return fail("matmulForward", "own GEMM grid too large (m %lld, batch %lld)", (long long)g.m, (long long)g.batch);
  }
  if (g.adt == LWZ_F32 && g.bdt == LWZ_F32) return withOut<float, float>(g);
  if (g.adt == LWZ_BF16 && g.bdt == LWZ_BF16) return withOut<bf16, bf16>(g);
  if (g.adt == LWZ_F32) return withOut<float, bf16>(g);
  return withOut<bf16, float>(g);
}

}  // namespace lwz
