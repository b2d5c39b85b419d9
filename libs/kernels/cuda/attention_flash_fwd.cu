// Attention v3 forward (see attention.cuh), FlashAttention-2 proper: scores, probabilities and the output stay
// in registers. A block of 4 warps owns 64 queries of one (row, head), each warp 16 of them; per 64-key tile
// the warp computes S = Q K^T with mma.sync m16n8k16 (bf16 in, f32 accumulate), masks and scales it, updates
// its rows' running max / sum (the 4 lanes of a quad share a row), and multiplies P (re-packed to bf16 A
// fragments straight from the S accumulators, mma.cuh) by V. K is staged row-major and V transposed in shared
// memory so every fragment load is one 32-bit word, bank-conflict free. Head dims 64 and 128 (templates).
// Departures from FA2: no cp.async double buffering and no ldmatrix yet (plain loads); a v4 would add them.
#include "attention.cuh"
#include "mma.cuh"

namespace lwz {
namespace {

constexpr int BR = 64, BC = 64, THREADS = 128, LDV = BC + 8;

template <int HD>
constexpr size_t smemBytes() {
  return size_t(BR * (HD + 8) + BC * (HD + 8) + HD * LDV) * sizeof(bf16);
}

template <typename T, int HD>
__global__ void __launch_bounds__(THREADS) forwardKernel(AttnIn<T> in, T* out, float* lse, AttnShape a) {
  constexpr int LDQ = HD + 8, NK = HD / 16, ND = HD / 8, NS = BC / 8;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);  // (BR, LDQ) queries of the tile
  bf16* sK = sQ + BR * LDQ;                   // (BC, LDQ) keys of the current tile, row-major
  bf16* sVt = sK + BC * LDQ;                  // (HD, LDV) values of the current tile, transposed

  const int tiles = (a.t + BR - 1) / BR;
  const int q0 = (tiles - 1 - int(blockIdx.x)) * BR;  // late (causally heavy) tiles first
  const int hh = blockIdx.y, bb = blockIdx.z, kvh = hh / (a.h / a.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int off = in.qOffset[bb], lo = max(0, in.kvStart[bb]);
  const int hi = min(a.s - 1, off + min(a.t - 1, q0 + BR - 1));
  const int64_t qRow = int64_t(a.h) * HD, kRow = a.ks;  // k/v in either layout (attention.cuh)
  const int64_t qBase = int64_t(bb) * a.t * qRow + int64_t(hh) * HD, kBase = a.kvBase(bb, kvh);

  for (int e = threadIdx.x; e < BR * HD; e += THREADS) {
    const int r = e / HD, c = e % HD, i = q0 + r;
    sQ[r * LDQ + c] = __float2bfloat16(i < a.t ? ld(in.q, qBase + int64_t(i) * qRow + c) : 0.f);
  }
  __syncthreads();
  uint32_t qf[NK][4];
#pragma unroll
  for (int kk = 0; kk < NK; kk++) loadA(qf[kk], sQ, LDQ, warp * 16, kk * 16, lane);

  float o[ND][4];
#pragma unroll
  for (int dn = 0; dn < ND; dn++) o[dn][0] = o[dn][1] = o[dn][2] = o[dn][3] = 0.f;
  float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;  // rows i0 and i1 = i0 + 8; l: this lane's share
  const int i0 = q0 + warp * 16 + gq, i1 = i0 + 8;

  for (int j0 = hi >= lo ? lo / BC * BC : a.s; j0 <= hi; j0 += BC) {
    __syncthreads();  // the previous tile's K / V are no longer read
    for (int e = threadIdx.x; e < BC * HD; e += THREADS) {
      const int r = e / HD, c = e % HD, j = j0 + r;
      // keys no query of the tile sees (before lo, past hi) load as zeros: their p is 0, but 0 x NaN in P V is
      // NaN, and left padding or an unwritten cache slot may hold NaN / inf (finite values: the same result)
      const bool ok = j >= lo && j <= hi;
      sK[r * LDQ + c] = __float2bfloat16(ok ? ld(in.k, kBase + int64_t(j) * kRow + c) : 0.f);
      sVt[c * LDV + r] = __float2bfloat16(ok ? ld(in.v, kBase + int64_t(j) * kRow + c) : 0.f);
    }
    __syncthreads();

    float s[NS][4];  // S tile (16 x 64): s[n] covers keys j0 + 8n .. + 8
#pragma unroll
    for (int n = 0; n < NS; n++) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < NK; kk++) {
        uint32_t b0, b1;
        loadBt(b0, b1, sK, LDQ, n * 8, kk * 16, lane);  // B = K^T, stored as K (key, d)
        mma16816(s[n], qf[kk], b0, b1);
      }
    }
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int n = 0; n < NS; n++) {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int j = j0 + n * 8 + 2 * tq + (e & 1), i = e < 2 ? i0 : i1;
        const bool vis = i < a.t && j >= lo && j <= off + i && j < a.s;
        s[n][e] = vis ? s[n][e] * a.scale : -INFINITY;
      }
      mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
      mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
    }
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
    const float n0 = fmaxf(m0, mx0), n1 = fmaxf(m1, mx1);
    const float c0 = n0 == -INFINITY ? 1.f : __expf(m0 - n0), c1 = n1 == -INFINITY ? 1.f : __expf(m1 - n1);
    float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
    for (int n = 0; n < NS; n++) {
      s[n][0] = n0 == -INFINITY ? 0.f : __expf(s[n][0] - n0);
      s[n][1] = n0 == -INFINITY ? 0.f : __expf(s[n][1] - n0);
      s[n][2] = n1 == -INFINITY ? 0.f : __expf(s[n][2] - n1);
      s[n][3] = n1 == -INFINITY ? 0.f : __expf(s[n][3] - n1);
      sum0 += s[n][0] + s[n][1];
      sum1 += s[n][2] + s[n][3];
    }
    l0 = l0 * c0 + sum0;
    l1 = l1 * c1 + sum1;
    m0 = n0;
    m1 = n1;
#pragma unroll
    for (int dn = 0; dn < ND; dn++) {
      o[dn][0] *= c0;
      o[dn][1] *= c0;
      o[dn][2] *= c1;
      o[dn][3] *= c1;
    }
#pragma unroll
    for (int ks = 0; ks < BC / 16; ks++) {
      const uint32_t pa[4] = {packBf16(s[2 * ks][0], s[2 * ks][1]), packBf16(s[2 * ks][2], s[2 * ks][3]),
                              packBf16(s[2 * ks + 1][0], s[2 * ks + 1][1]), packBf16(s[2 * ks + 1][2], s[2 * ks + 1][3])};
#pragma unroll
      for (int dn = 0; dn < ND; dn++) {
        uint32_t b0, b1;
        loadBt(b0, b1, sVt, LDV, dn * 8, ks * 16, lane);  // B = V, stored transposed (d, key)
        mma16816(o[dn], pa, b0, b1);
      }
    }
  }

  l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
  l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
  const float r0 = l0 > 0.f ? 1.f / l0 : 0.f, r1 = l1 > 0.f ? 1.f / l1 : 0.f;
#pragma unroll
  for (int dn = 0; dn < ND; dn++) {
    const int d = dn * 8 + 2 * tq;
    if (i0 < a.t) {
      st(out, qBase + int64_t(i0) * qRow + d, o[dn][0] * r0);
      st(out, qBase + int64_t(i0) * qRow + d + 1, o[dn][1] * r0);
    }
    if (i1 < a.t) {
      st(out, qBase + int64_t(i1) * qRow + d, o[dn][2] * r1);
      st(out, qBase + int64_t(i1) * qRow + d + 1, o[dn][3] * r1);
    }
  }
  if (tq == 0) {
    const int64_t lrow = (int64_t(bb) * a.h + hh) * a.t;
    if (i0 < a.t) lse[lrow + i0] = l0 > 0.f ? m0 + logf(l0) : -INFINITY;
    if (i1 < a.t) lse[lrow + i1] = l1 > 0.f ? m1 + logf(l1) : -INFINITY;
  }
}

template <typename T, int HD>
int launch(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  const char* name = "attentionForward (flash)";
  const size_t bytes = smemBytes<HD>();
  if (int(bytes) > maxSmemOptin()) return fail(name, "needs %zu bytes of shared memory, the device allows %d", bytes, maxSmemOptin());
  if (checkCuda(cudaFuncSetAttribute(forwardKernel<T, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)), name,
                "cudaFuncSetAttribute"))
    return -1;
  const dim3 grid(unsigned((a.t + BR - 1) / BR), unsigned(a.h), unsigned(a.b));
  forwardKernel<T, HD><<<grid, THREADS, bytes, stream()>>>(in, out, lse, a);
  return checkLaunch(name);
}

}  // namespace

bool attnFlashFits(const AttnShape& a) { return a.d == 64 || a.d == 128; }

template <typename T>
int attnFlashForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  if (a.d == 64) return launch<T, 64>(in, out, lse, a);
  if (a.d == 128) return launch<T, 128>(in, out, lse, a);
  return fail("attentionForward (flash)", "head dim %d: the register-resident kernel takes 64 or 128", a.d);
}

template int attnFlashForward<float>(const AttnIn<float>&, float*, float*, const AttnShape&);
template int attnFlashForward<bf16>(const AttnIn<bf16>&, bf16*, float*, const AttnShape&);

}  // namespace lwz
