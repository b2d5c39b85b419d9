// Attention v2 backward (see attention.cuh), FlashAttention-2 style: a block of 4 warps owns 64 keys of one
// query head (warp w: keys 16w..16w+15) and walks the 32-query tiles that can see them. Per tile, on bf16 tensor
// cores: S^T = K Q^T, P^T = exp(scale S^T - lse) (masked), dP^T = V dO^T, dS^T = P^T (dP^T - delta) scale,
// then dV += P^T dO and dK += dS^T Q in shared f32, and dQ += dS K straight into global f32 with atomics.
// dK/dV of the block are added (atomics) into the kv head's accumulators, since the H / Hkv query heads of a
// group share them. delta = rowsum(dO * O) comes from a small pre-pass.
#include <mma.h>

#include "attention.cuh"

namespace lwz {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int BC = 64, BRB = 32, WARPS = 4, THREADS = WARPS * 32;
constexpr int LDSB = BRB + 4;  // f32 stride of S^T / dP^T rows
constexpr int LDPB = BRB + 8;  // bf16 stride of P^T / dS^T rows

struct Layout {
  int dp, ldh, ldo;
  size_t k, v, q, dout, s, p, ds, dk, dv, lse, delta, tmp, bytes;
};

__host__ __device__ inline Layout layoutFor(int d) {
  Layout L;
  L.dp = (d + 15) / 16 * 16;
  L.ldh = L.dp + 8;
  L.ldo = L.dp + 4;
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t here = at;
    at += bytes;
    return here;
  };
  L.k = take(size_t(BC) * L.ldh * 2);
  L.v = take(size_t(BC) * L.ldh * 2);
  L.q = take(size_t(BRB) * L.ldh * 2);
  L.dout = take(size_t(BRB) * L.ldh * 2);
  L.s = take(size_t(BC) * LDSB * 4);
  L.p = take(size_t(BC) * LDPB * 2);
  L.ds = take(size_t(BC) * LDPB * 2);
  L.dk = take(size_t(BC) * L.ldo * 4);
  L.dv = take(size_t(BC) * L.ldo * 4);
  L.lse = take(BRB * 4);
  L.delta = take(BRB * 4);
  L.tmp = take(WARPS * 256 * 4);
  L.bytes = at;
  return L;
}

template <typename T>
__device__ __forceinline__ void loadRows(bf16* dst, int ldh, int dp, const T* src, int64_t base, int64_t stride, int rows, int first,
                                         int from, int limit, int d) {
  // dst (rows, dp) bf16 <- src rows first.., zero before from, past limit / d
  for (int e = threadIdx.x; e < rows * dp; e += blockDim.x) {
    const int r = e / dp, c = e % dp, idx = first + r;
    dst[r * ldh + c] = __float2bfloat16(idx >= from && idx < limit && c < d ? ld(src, base + int64_t(idx) * stride + c) : 0.f);
  }
}

template <typename T>
__global__ void deltaKernel(const T* out, const T* dOut, float* delta, AttnShape a) {
  const int64_t warpId = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (warpId >= int64_t(a.b) * a.t * a.h) return;
  const int hh = int(warpId % a.h), i = int(warpId / a.h % a.t), bb = int(warpId / (int64_t(a.h) * a.t));
  const int64_t o = ((int64_t(bb) * a.t + i) * a.h + hh) * a.d;
  float acc = 0.f;
  for (int c = lane; c < a.d; c += 32) acc += ld(dOut, o + c) * ld(out, o + c);
  acc = warpSum(acc);
  if (lane == 0) delta[(int64_t(bb) * a.h + hh) * a.t + i] = acc;
}

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragACol = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

/** dst (16 x BRB) f32 = rows (16 keys of `keys`) x cols^T (BRB queries of `cols`), both (rows, ldh) bf16. */
__device__ __forceinline__ void keyQueryProduct(float* dst, const bf16* keys, const bf16* cols, int ldh, int dp) {
  for (int nt = 0; nt < BRB / 16; nt++) {
    FragC acc;
    wmma::fill_fragment(acc, 0.f);
    for (int kk = 0; kk < dp; kk += 16) {
      FragA fa;
      FragBCol fb;
      wmma::load_matrix_sync(fa, keys + kk, ldh);
      wmma::load_matrix_sync(fb, cols + (nt * 16) * ldh + kk, ldh);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(dst + nt * 16, acc, LDSB, wmma::mem_row_major);
  }
}

/** acc rows (16 x dp, f32 in shared, stride ldo) += lhs (16 x BRB bf16, stride LDPB) x rhs (BRB x dp bf16, stride ldh). */
__device__ __forceinline__ void accumulateRows(float* accRows, int ldo, const bf16* lhs, const bf16* rhs, int ldh, int dp) {
  for (int nt = 0; nt < dp / 16; nt++) {
    FragC acc;
    wmma::load_matrix_sync(acc, accRows + nt * 16, ldo, wmma::mem_row_major);
    for (int ks = 0; ks < BRB / 16; ks++) {
      FragA fa;
      FragB fb;
      wmma::load_matrix_sync(fa, lhs + ks * 16, LDPB);
      wmma::load_matrix_sync(fb, rhs + (ks * 16) * ldh + nt * 16, ldh);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(accRows + nt * 16, acc, ldo, wmma::mem_row_major);
  }
}

template <typename T>
__global__ void __launch_bounds__(THREADS)
    backwardKernel(AttnIn<T> in, const float* lse, const T* dOut, const float* delta, float* dqAcc, float* dkAcc, float* dvAcc, AttnShape a) {
  extern __shared__ __align__(128) unsigned char smem[];
  const Layout L = layoutFor(a.d);
  bf16* sK = reinterpret_cast<bf16*>(smem + L.k);       // (BC, ldh) keys of the block
  bf16* sV = reinterpret_cast<bf16*>(smem + L.v);       // (BC, ldh) values of the block
  bf16* sQ = reinterpret_cast<bf16*>(smem + L.q);       // (BRB, ldh) queries of the tile
  bf16* sDO = reinterpret_cast<bf16*>(smem + L.dout);   // (BRB, ldh) dOut of the tile
  float* sS = reinterpret_cast<float*>(smem + L.s);      // (BC, LDSB) S^T, then dP^T
  bf16* sP = reinterpret_cast<bf16*>(smem + L.p);       // (BC, LDPB) P^T
  bf16* sDS = reinterpret_cast<bf16*>(smem + L.ds);     // (BC, LDPB) dS^T * scale
  float* sDK = reinterpret_cast<float*>(smem + L.dk);    // (BC, ldo) dK of the block
  float* sDV = reinterpret_cast<float*>(smem + L.dv);    // (BC, ldo) dV of the block
  float* sLse = reinterpret_cast<float*>(smem + L.lse);  // (BRB,)
  float* sDelta = reinterpret_cast<float*>(smem + L.delta);
  float* sTmp = reinterpret_cast<float*>(smem + L.tmp);  // (WARPS, 16 x 16) dQ fragment staging

  const int j0 = blockIdx.x * BC, hh = blockIdx.y, bb = blockIdx.z, g = hh / (a.h / a.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, row0 = warp * 16;
  const int off = in.qOffset[bb], lo = max(0, in.kvStart[bb]);
  const int64_t qRow = int64_t(a.h) * a.d, kRow = int64_t(a.hkv) * a.d;
  const int64_t qBase = int64_t(bb) * a.t * qRow + int64_t(hh) * a.d, kBase = int64_t(bb) * a.s * kRow + int64_t(g) * a.d;

  // keys no query of the row sees (before lo, past its last query's off + T - 1) load as zeros: their p is 0, but
  // p (dP - delta) with dP = dO V^T NaN, and dS K with K NaN, are NaN in dQ (and dK), and left padding or an
  // unwritten cache slot may hold NaN / inf (finite values: the same result)
  const int kvEnd = min(a.s, off + a.t);
  loadRows(sK, L.ldh, L.dp, in.k, kBase, kRow, BC, j0, lo, kvEnd, a.d);
  loadRows(sV, L.ldh, L.dp, in.v, kBase, kRow, BC, j0, lo, kvEnd, a.d);
  for (int e = threadIdx.x; e < BC * L.dp; e += blockDim.x) {
    sDK[(e / L.dp) * L.ldo + e % L.dp] = 0.f;
    sDV[(e / L.dp) * L.ldo + e % L.dp] = 0.f;
  }
  __syncthreads();

  const int iStart = max(0, j0 - off);  // the first query that can see key j0 (later keys: later queries)
  const bool any = j0 + BC - 1 >= lo && iStart < a.t;
  for (int i0 = any ? iStart / BRB * BRB : a.t; i0 < a.t; i0 += BRB) {
    loadRows(sQ, L.ldh, L.dp, in.q, qBase, qRow, BRB, i0, 0, a.t, a.d);
    loadRows(sDO, L.ldh, L.dp, dOut, qBase, qRow, BRB, i0, 0, a.t, a.d);
    for (int e = threadIdx.x; e < BRB; e += blockDim.x) {
      const int i = i0 + e;
      sLse[e] = i < a.t ? lse[(int64_t(bb) * a.h + hh) * a.t + i] : -INFINITY;
      sDelta[e] = i < a.t ? delta[(int64_t(bb) * a.h + hh) * a.t + i] : 0.f;
    }
    __syncthreads();

    keyQueryProduct(sS + row0 * LDSB, sK + row0 * L.ldh, sQ, L.ldh, L.dp);  // S^T rows of this warp
    __syncwarp();
    float p[16];  // P^T[row0 + x][lane]
    const int i = i0 + lane;
    const float li = sLse[lane];
#pragma unroll
    for (int x = 0; x < 16; x++) {
      const int j = j0 + row0 + x;
      const bool vis = i < a.t && j < a.s && j >= lo && j <= off + i && li != -INFINITY;
      p[x] = vis ? __expf(sS[(row0 + x) * LDSB + lane] * a.scale - li) : 0.f;
      sP[(row0 + x) * LDPB + lane] = __float2bfloat16(p[x]);
    }
    __syncwarp();
    keyQueryProduct(sS + row0 * LDSB, sV + row0 * L.ldh, sDO, L.ldh, L.dp);  // dP^T rows of this warp
    __syncwarp();
    const float di = sDelta[lane];
#pragma unroll
    for (int x = 0; x < 16; x++) {
      const float ds = p[x] * (sS[(row0 + x) * LDSB + lane] - di) * a.scale;
      sDS[(row0 + x) * LDPB + lane] = __float2bfloat16(ds);
    }
    __syncwarp();
    accumulateRows(sDV + row0 * L.ldo, L.ldo, sP + row0 * LDPB, sDO, L.ldh, L.dp);
    accumulateRows(sDK + row0 * L.ldo, L.ldo, sDS + row0 * LDPB, sQ, L.ldh, L.dp);
    __syncthreads();  // all 64 keys' dS^T rows are in place

    // dQ (BRB x dp) += dS (BRB x BC) K (BC x dp): fragments spread over the warps
    float* tmp = sTmp + warp * 256;
    for (int f = warp; f < (BRB / 16) * (L.dp / 16); f += WARPS) {
      const int qt = f % (BRB / 16), nt = f / (BRB / 16);
      FragC acc;
      wmma::fill_fragment(acc, 0.f);
      for (int ks = 0; ks < BC / 16; ks++) {
        FragACol fa;  // dS: (query, key) at sDS[key * LDPB + query]
        FragB fb;
        wmma::load_matrix_sync(fa, sDS + (ks * 16) * LDPB + qt * 16, LDPB);
        wmma::load_matrix_sync(fb, sK + (ks * 16) * L.ldh + nt * 16, L.ldh);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(tmp, acc, 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int qi = i0 + qt * 16 + e / 16, c = nt * 16 + e % 16;
        if (qi < a.t && c < a.d) atomicAdd(dqAcc + qBase + int64_t(qi) * qRow + c, tmp[e]);
      }
      __syncwarp();
    }
    __syncthreads();  // before the next tile overwrites sQ, sDO, sDS
  }

  if (!any) return;
  for (int e = threadIdx.x; e < BC * a.d; e += blockDim.x) {
    const int r = e / a.d, c = e % a.d, j = j0 + r;
    if (j >= a.s) continue;
    const int64_t o = kBase + int64_t(j) * kRow + c;
    atomicAdd(dkAcc + o, sDK[r * L.ldo + c]);
    atomicAdd(dvAcc + o, sDV[r * L.ldo + c]);
  }
}

}  // namespace

template <typename T>
int attnWmmaBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, float* dqAcc, float* dkAcc, float* dvAcc,
                      float* delta, const AttnShape& a) {
  const char* name = "attentionBackward (wmma)";
  if (a.d > WMMA_MAX_D) return fail(name, "head dim %d > %d", a.d, WMMA_MAX_D);
  const Layout L = layoutFor(a.d);
  if (int(L.bytes) > maxSmemOptin()) return fail(name, "needs %zu bytes of shared memory, the device allows %d", L.bytes, maxSmemOptin());
  if (attnDelta(out, dOut, delta, a)) return -1;
  if (checkCuda(cudaFuncSetAttribute(backwardKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(L.bytes)), name,
                "cudaFuncSetAttribute"))
    return -1;
  const dim3 grid(unsigned((a.s + BC - 1) / BC), unsigned(a.h), unsigned(a.b));
  backwardKernel<T><<<grid, THREADS, L.bytes, stream()>>>(in, lse, dOut, delta, dqAcc, dkAcc, dvAcc, a);
  return checkLaunch(name);
}

template <typename T>
int attnDelta(const T* out, const T* dOut, float* delta, const AttnShape& a) {
  const int64_t rows = int64_t(a.b) * a.t * a.h;
  if (rows == 0) return 0;
  deltaKernel<T><<<unsigned(ceilDiv(rows * 32, 128)), 128, 0, stream()>>>(out, dOut, delta, a);
  return checkLaunch("attentionBackward (delta = rowsum dOut * out)");
}

template int attnDelta<float>(const float*, const float*, float*, const AttnShape&);
template int attnDelta<bf16>(const bf16*, const bf16*, float*, const AttnShape&);
template int attnWmmaBackward<float>(const AttnIn<float>&, const float*, const float*, const float*, float*, float*, float*, float*,
                                      const AttnShape&);
template int attnWmmaBackward<bf16>(const AttnIn<bf16>&, const bf16*, const float*, const bf16*, float*, float*, float*, float*,
                                     const AttnShape&);

}  // namespace lwz
