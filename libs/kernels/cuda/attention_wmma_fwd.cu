// Attention v2 forward (see attention.cuh): FlashAttention-2 style. A block of 4 warps owns 64 queries of one
// (row, head); K/V stream through shared memory in 64-key tiles; each warp computes its 16x64 score tile on bf16
// tensor cores (WMMA 16x16x16, f32 accumulate), applies the mask and the online softmax in f32 in shared
// memory, and adds P V (P rounded to bf16) into its f32 output rows. D is zero-padded to a multiple of 16
// (padding changes no dot product), so any D <= 128 runs here. Heavy (late, causal) query tiles launch first.
// Departure from FA2: O and the scores live in shared memory rather than registers (simpler, slower).
#include <mma.h>

#include "attention.cuh"

namespace lwz {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int BR = 64, BC = 64, WARPS = 4, THREADS = WARPS * 32;
constexpr int LDS = BC + 4;  // f32 score stride
constexpr int LDP = BC + 8;  // bf16 probability stride

struct Layout {
  int dp, ldh, ldo;  // padded D, bf16 stride of Q/K/V rows, f32 stride of O rows
  size_t q, k, v, s, p, o, m, l, bytes;
};

__host__ __device__ inline Layout layoutFor(int d) {
  Layout L;
  L.dp = (d + 15) / 16 * 16;
  L.ldh = L.dp + 8;
  L.ldo = L.dp + 4;
  size_t at = 0;
  L.q = at;
  at += size_t(BR) * L.ldh * 2;
  L.k = at;
  at += size_t(BC) * L.ldh * 2;
  L.v = at;
  at += size_t(BC) * L.ldh * 2;
  L.s = at;
  at += size_t(BR) * LDS * 4;
  L.p = at;
  at += size_t(BR) * LDP * 2;
  L.o = at;
  at += size_t(BR) * L.ldo * 4;
  L.m = at;
  at += BR * 4;
  L.l = at;
  at += BR * 4;
  L.bytes = at;
  return L;
}

template <typename T>
__device__ __forceinline__ void loadTile(bf16* dst, int ldh, int dp, const T* src, int64_t rowBase, int64_t rowStride, int rows, int first,
                                         int from, int limit, int d) {
  // dst (rows, dp) bf16 <- src rows first.. (row r at src[rowBase + (first + r) * rowStride]), zero before from,
  // past limit / d
  for (int e = threadIdx.x; e < rows * dp; e += blockDim.x) {
    const int r = e / dp, c = e % dp, idx = first + r;
    const float v = idx >= from && idx < limit && c < d ? ld(src, rowBase + int64_t(idx) * rowStride + c) : 0.f;
    dst[r * ldh + c] = __float2bfloat16(v);
  }
}

template <typename T>
__global__ void __launch_bounds__(THREADS) forwardKernel(AttnIn<T> in, T* out, float* lse, AttnShape a) {
  extern __shared__ __align__(128) unsigned char smem[];
  const Layout L = layoutFor(a.d);
  bf16* sQ = reinterpret_cast<bf16*>(smem + L.q);   // (BR, ldh) queries of the tile
  bf16* sK = reinterpret_cast<bf16*>(smem + L.k);   // (BC, ldh) keys of the current tile
  bf16* sV = reinterpret_cast<bf16*>(smem + L.v);   // (BC, ldh) values of the current tile
  float* sS = reinterpret_cast<float*>(smem + L.s);  // (BR, LDS) raw scores q.k
  bf16* sP = reinterpret_cast<bf16*>(smem + L.p);   // (BR, LDP) probabilities exp(s - m)
  float* sO = reinterpret_cast<float*>(smem + L.o);  // (BR, ldo) unnormalised output rows
  float* sM = reinterpret_cast<float*>(smem + L.m);  // (BR,) running max of scaled scores
  float* sL = reinterpret_cast<float*>(smem + L.l);  // (BR,) running sum of exp

  const int tiles = (a.t + BR - 1) / BR;
  const int q0 = (tiles - 1 - int(blockIdx.x)) * BR;
  const int hh = blockIdx.y, bb = blockIdx.z, g = hh / (a.h / a.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int off = in.qOffset[bb], lo = max(0, in.kvStart[bb]);
  const int hi = min(a.s - 1, off + min(a.t - 1, q0 + BR - 1));  // last key any query of the tile sees

  const int64_t qRow = int64_t(a.h) * a.d, kRow = a.ks;  // strides between consecutive tokens (k/v: either layout)
  loadTile(sQ, L.ldh, L.dp, in.q, (int64_t(bb) * a.t) * qRow + int64_t(hh) * a.d, qRow, BR, q0, 0, a.t, a.d);
  for (int e = threadIdx.x; e < BR * L.dp; e += blockDim.x) sO[(e / L.dp) * L.ldo + e % L.dp] = 0.f;
  for (int e = threadIdx.x; e < BR; e += blockDim.x) {
    sM[e] = -INFINITY;
    sL[e] = 0.f;
  }
  __syncthreads();

  const int row0 = warp * 16;  // this warp's 16 query rows within the tile
  for (int j0 = hi >= lo ? lo / BC * BC : a.s; j0 <= hi; j0 += BC) {
    const int64_t kBase = a.kvBase(bb, g);
    // keys no query of the tile sees (before lo, past hi) load as zeros: their p is 0, but 0 x NaN in P V is NaN,
    // and left padding or an unwritten cache slot may hold NaN / inf (finite values: the same result)
    loadTile(sK, L.ldh, L.dp, in.k, kBase, kRow, BC, j0, lo, hi + 1, a.d);
    loadTile(sV, L.ldh, L.dp, in.v, kBase, kRow, BC, j0, lo, hi + 1, a.d);
    __syncthreads();

    // S (16 x 64) = Q_w K^T
    for (int nt = 0; nt < BC / 16; nt++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < L.dp; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fq;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> fk;  // K^T: (d, key) at sK[key * ldh + d]
        wmma::load_matrix_sync(fq, sQ + row0 * L.ldh + kk, L.ldh);
        wmma::load_matrix_sync(fk, sK + (nt * 16) * L.ldh + kk, L.ldh);
        wmma::mma_sync(acc, fq, fk, acc);
      }
      wmma::store_matrix_sync(sS + row0 * LDS + nt * 16, acc, LDS, wmma::mem_row_major);
    }
    __syncwarp();

    // mask + online softmax, one row at a time; lanes own keys lane and lane + 32
    for (int rr = 0; rr < 16; rr++) {
      const int r = row0 + rr, i = q0 + r;
      const float mOld = sM[r];
      float s0 = -INFINITY, s1 = -INFINITY;
      const int ja = j0 + lane, jb = j0 + lane + 32;
      if (i < a.t && ja >= lo && ja <= off + i && ja < a.s) s0 = sS[r * LDS + lane] * a.scale;
      if (i < a.t && jb >= lo && jb <= off + i && jb < a.s) s1 = sS[r * LDS + lane + 32] * a.scale;
      const float mx = warpMax(fmaxf(s0, s1));
      const float mNew = fmaxf(mOld, mx);
      float p0 = 0.f, p1 = 0.f, corr = 1.f;
      if (mNew != -INFINITY) {
        p0 = __expf(s0 - mNew);
        p1 = __expf(s1 - mNew);
        corr = __expf(mOld - mNew);
      }
      const float sum = warpSum(p0 + p1);
      sP[r * LDP + lane] = __float2bfloat16(p0);
      sP[r * LDP + lane + 32] = __float2bfloat16(p1);
      for (int c = lane; c < L.dp; c += 32) sO[r * L.ldo + c] *= corr;
      __syncwarp();  // every lane has read sM[r] before lane 0 replaces it
      if (lane == 0) {
        sM[r] = mNew;
        sL[r] = sL[r] * corr + sum;
      }
    }
    __syncwarp();

    // O_w (16 x dp) += P_w (16 x 64) V (64 x dp)
    for (int nt = 0; nt < L.dp / 16; nt++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, sO + row0 * L.ldo + nt * 16, L.ldo, wmma::mem_row_major);
      for (int ks = 0; ks < BC / 16; ks++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fp;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fv;
        wmma::load_matrix_sync(fp, sP + row0 * LDP + ks * 16, LDP);
        wmma::load_matrix_sync(fv, sV + (ks * 16) * L.ldh + nt * 16, L.ldh);
        wmma::mma_sync(acc, fp, fv, acc);
      }
      wmma::store_matrix_sync(sO + row0 * L.ldo + nt * 16, acc, L.ldo, wmma::mem_row_major);
    }
    __syncthreads();  // every warp is done with sK / sV before the next tile overwrites them
  }
  __syncwarp();

  for (int rr = 0; rr < 16; rr++) {
    const int r = row0 + rr, i = q0 + r;
    if (i >= a.t) break;
    const float l = sL[r];
    const int64_t o = ((int64_t(bb) * a.t + i) * a.h + hh) * a.d;
    for (int c = lane; c < a.d; c += 32) st(out, o + c, l > 0.f ? sO[r * L.ldo + c] / l : 0.f);
    if (lane == 0) lse[(int64_t(bb) * a.h + hh) * a.t + i] = l > 0.f ? sM[r] + logf(l) : -INFINITY;
  }
}

}  // namespace

template <typename T>
int attnWmmaForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  const char* name = "attentionForward (wmma)";
  if (a.d > WMMA_MAX_D) return fail(name, "head dim %d > %d", a.d, WMMA_MAX_D);
  const Layout L = layoutFor(a.d);
  if (int(L.bytes) > maxSmemOptin()) return fail(name, "needs %zu bytes of shared memory, the device allows %d", L.bytes, maxSmemOptin());
  if (checkCuda(cudaFuncSetAttribute(forwardKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(L.bytes)), name,
                "cudaFuncSetAttribute"))
    return -1;
  const dim3 grid(unsigned((a.t + BR - 1) / BR), unsigned(a.h), unsigned(a.b));
  forwardKernel<T><<<grid, THREADS, L.bytes, stream()>>>(in, out, lse, a);
  return checkLaunch(name);
}

template int attnWmmaForward<float>(const AttnIn<float>&, float*, float*, const AttnShape&);
template int attnWmmaForward<bf16>(const AttnIn<bf16>&, bf16*, float*, const AttnShape&);

}  // namespace lwz
