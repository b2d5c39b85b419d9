// Attention v3 backward (see attention.cuh), FlashAttention-2 style with register accumulators: a block of 4
// warps owns 64 keys of one query head (warp w: keys 16w..16w+15) and walks the query tiles that can see them.
// Per tile, on mma.sync m16n8k16 (mma.cuh): S^T = K Q^T and dP^T = V dO^T in registers, P^T = exp(scale S^T -
// lse) masked, dS^T = P^T (dP^T - delta) scale; dV += P^T dO and dK += dS^T Q accumulate in registers (the C
// fragments of S^T / dS^T are the A fragments of those products); dS goes through shared memory so the four
// warps can form dQ += dS K, added to global f32 with atomics. dK / dV are added (atomics) into the kv head's
// accumulators at the end (the query heads of a group share them). Operands needed "the other way round" are
// staged transposed (Q^T, dO^T, K^T), so every fragment load is one 32-bit word. Head dims 64 and 128.
#include "attention.cuh"
#include "mma.cuh"

namespace lwz {
namespace {

constexpr int BC = 64, THREADS = 128;

template <int HD>
struct Tile {
  static constexpr int BQ = HD == 128 ? 32 : 64;  // queries per step (registers bound it at D = 128)
  static constexpr int LDH = HD + 8, LDKT = BC + 8, LDQT = BQ + 8, LDS = BC + 8;
  static constexpr int ND = HD / 8, NK = HD / 16, NQ = BQ / 8;
  static constexpr int QT = BQ / 16, DC = HD / (4 / QT);  // dQ: warp w does query tile w % QT, columns [DC * (w / QT), +DC)
  static constexpr size_t bytes() {
    return sizeof(bf16) * size_t(2 * BC * LDH + HD * LDKT + 2 * BQ * LDH + 2 * HD * LDQT + BQ * LDS) + sizeof(float) * 2 * BQ;
  }
};

template <typename T, int HD>
__global__ void __launch_bounds__(THREADS)
    backwardKernel(AttnIn<T> in, const float* lse, const T* dOut, const float* delta, float* dqAcc, float* dkAcc, float* dvAcc, AttnShape a) {
  using L = Tile<HD>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sK = reinterpret_cast<bf16*>(smem);  // (BC, LDH) keys of the block
  bf16* sV = sK + BC * L::LDH;                // (BC, LDH) values
  bf16* sKt = sV + BC * L::LDH;               // (HD, LDKT) keys transposed
  bf16* sQ = sKt + HD * L::LDKT;              // (BQ, LDH) queries of the step
  bf16* sDO = sQ + L::BQ * L::LDH;            // (BQ, LDH) dOut of the step
  bf16* sQt = sDO + L::BQ * L::LDH;           // (HD, LDQT) queries transposed
  bf16* sDOt = sQt + HD * L::LDQT;            // (HD, LDQT) dOut transposed
  bf16* sDS = sDOt + HD * L::LDQT;            // (BQ, LDS) dS * scale, query-major
  float* sLse = reinterpret_cast<float*>(sDS + L::BQ * L::LDS);  // (BQ,)
  float* sDelta = sLse + L::BQ;                                   // (BQ,)

  const int j0 = blockIdx.x * BC, hh = blockIdx.y, bb = blockIdx.z, kvh = hh / (a.h / a.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int off = in.qOffset[bb], lo = max(0, in.kvStart[bb]);
  const int64_t qRow = int64_t(a.h) * HD, kRow = int64_t(a.hkv) * HD;
  const int64_t qBase = int64_t(bb) * a.t * qRow + int64_t(hh) * HD, kBase = int64_t(bb) * a.s * kRow + int64_t(kvh) * HD;

  for (int e = threadIdx.x; e < BC * HD; e += THREADS) {
    const int r = e / HD, c = e % HD, j = j0 + r;
    // keys no query of the row sees (before lo, past its last query's off + T - 1) load as zeros: their p is 0,
    // but p (dP - delta) with dP = dO V^T NaN, and dS K with K NaN, are NaN in dQ (and dK), and left padding or
    // an unwritten cache slot may hold NaN / inf (finite values: the same result)
    const bool ok = j >= lo && j < min(a.s, off + a.t);
    const bf16 kv = __float2bfloat16(ok ? ld(in.k, kBase + int64_t(j) * kRow + c) : 0.f);
    sK[r * L::LDH + c] = kv;
    sKt[c * L::LDKT + r] = kv;
    sV[r * L::LDH + c] = __float2bfloat16(ok ? ld(in.v, kBase + int64_t(j) * kRow + c) : 0.f);
  }

  float dk[L::ND][4], dv[L::ND][4];
#pragma unroll
  for (int dn = 0; dn < L::ND; dn++)
#pragma unroll
    for (int e = 0; e < 4; e++) dk[dn][e] = dv[dn][e] = 0.f;
  const int key0 = j0 + warp * 16 + gq, key1 = key0 + 8;  // this lane's two key rows

  const int iStart = max(0, j0 - off);  // the first query that can see key j0
  const bool any = j0 + BC - 1 >= lo && iStart < a.t;
  for (int i0 = any ? iStart / L::BQ * L::BQ : a.t; i0 < a.t; i0 += L::BQ) {
    __syncthreads();  // the previous step's Q / dO / dS are no longer read (and K / V are staged, first time)
    for (int e = threadIdx.x; e < L::BQ * HD; e += THREADS) {
      const int r = e / HD, c = e % HD, i = i0 + r;
      const bool ok = i < a.t;
      const bf16 qv = __float2bfloat16(ok ? ld(in.q, qBase + int64_t(i) * qRow + c) : 0.f);
      const bf16 dov = __float2bfloat16(ok ? ld(dOut, qBase + int64_t(i) * qRow + c) : 0.f);
      sQ[r * L::LDH + c] = qv;
      sQt[c * L::LDQT + r] = qv;
      sDO[r * L::LDH + c] = dov;
      sDOt[c * L::LDQT + r] = dov;
    }
    for (int e = threadIdx.x; e < L::BQ; e += THREADS) {
      const int i = i0 + e;
      sLse[e] = i < a.t ? lse[(int64_t(bb) * a.h + hh) * a.t + i] : -INFINITY;
      sDelta[e] = i < a.t ? delta[(int64_t(bb) * a.h + hh) * a.t + i] : 0.f;
    }
    __syncthreads();

    // S^T and dP^T (16 keys x BQ queries) of this warp's keys
    float st[L::NQ][4], dpt[L::NQ][4];
#pragma unroll
    for (int n = 0; n < L::NQ; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) st[n][e] = dpt[n][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < L::NK; kk++) {
      uint32_t ka[4], va[4];
      loadA(ka, sK, L::LDH, warp * 16, kk * 16, lane);
      loadA(va, sV, L::LDH, warp * 16, kk * 16, lane);
#pragma unroll
      for (int n = 0; n < L::NQ; n++) {
        uint32_t b0, b1;
        loadBt(b0, b1, sQ, L::LDH, n * 8, kk * 16, lane);  // B = Q^T, stored as Q (query, d)
        mma16816(st[n], ka, b0, b1);
        loadBt(b0, b1, sDO, L::LDH, n * 8, kk * 16, lane);  // B = dO^T, stored as dO
        mma16816(dpt[n], va, b0, b1);
      }
    }
    // P^T and dS^T in place: st <- P^T, dpt <- dS^T * scale
#pragma unroll
    for (int n = 0; n < L::NQ; n++) {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int qc = n * 8 + 2 * tq + (e & 1), i = i0 + qc, j = e < 2 ? key0 : key1;
        const float li = sLse[qc];
        const bool vis = i < a.t && j < a.s && j >= lo && j <= off + i && li != -INFINITY;
        const float p = vis ? __expf(st[n][e] * a.scale - li) : 0.f;
        st[n][e] = p;
        dpt[n][e] = p * (dpt[n][e] - sDelta[qc]) * a.scale;
      }
    }
    // dV += P^T dO and dK += dS^T Q (A fragments from the accumulators, B from the transposed copies)
#pragma unroll
    for (int ks = 0; ks < L::BQ / 16; ks++) {
      const uint32_t pa[4] = {packBf16(st[2 * ks][0], st[2 * ks][1]), packBf16(st[2 * ks][2], st[2 * ks][3]),
                              packBf16(st[2 * ks + 1][0], st[2 * ks + 1][1]), packBf16(st[2 * ks + 1][2], st[2 * ks + 1][3])};
      const uint32_t da[4] = {packBf16(dpt[2 * ks][0], dpt[2 * ks][1]), packBf16(dpt[2 * ks][2], dpt[2 * ks][3]),
                              packBf16(dpt[2 * ks + 1][0], dpt[2 * ks + 1][1]), packBf16(dpt[2 * ks + 1][2], dpt[2 * ks + 1][3])};
#pragma unroll
      for (int dn = 0; dn < L::ND; dn++) {
        uint32_t b0, b1;
        loadBt(b0, b1, sDOt, L::LDQT, dn * 8, ks * 16, lane);  // B = dO (query, d), stored transposed
        mma16816(dv[dn], pa, b0, b1);
        loadBt(b0, b1, sQt, L::LDQT, dn * 8, ks * 16, lane);  // B = Q (query, d), stored transposed
        mma16816(dk[dn], da, b0, b1);
      }
    }
    // dS to shared memory, query-major, for dQ
#pragma unroll
    for (int n = 0; n < L::NQ; n++) {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int qc = n * 8 + 2 * tq + (e & 1), kr = warp * 16 + gq + (e < 2 ? 0 : 8);
        sDS[qc * L::LDS + kr] = __float2bfloat16(dpt[n][e]);
      }
    }
    __syncthreads();
    // dQ (BQ x HD) += dS (BQ x 64 keys) K (64 keys x HD): warp w does query tile w % QT, columns DC * (w / QT)..
    {
      const int qt = warp % L::QT, c0 = L::DC * (warp / L::QT);
      float dq[L::DC / 8][4];
#pragma unroll
      for (int dn = 0; dn < L::DC / 8; dn++) dq[dn][0] = dq[dn][1] = dq[dn][2] = dq[dn][3] = 0.f;
#pragma unroll
      for (int ks = 0; ks < BC / 16; ks++) {
        uint32_t sa[4];
        loadA(sa, sDS, L::LDS, qt * 16, ks * 16, lane);
#pragma unroll
        for (int dn = 0; dn < L::DC / 8; dn++) {
          uint32_t b0, b1;
          loadBt(b0, b1, sKt, L::LDKT, c0 + dn * 8, ks * 16, lane);  // B = K (key, d), stored transposed
          mma16816(dq[dn], sa, b0, b1);
        }
      }
      const int q0 = i0 + qt * 16 + gq, q1 = q0 + 8;
#pragma unroll
      for (int dn = 0; dn < L::DC / 8; dn++) {
        const int d = c0 + dn * 8 + 2 * tq;
        if (q0 < a.t) {
          atomicAdd(dqAcc + qBase + int64_t(q0) * qRow + d, dq[dn][0]);
          atomicAdd(dqAcc + qBase + int64_t(q0) * qRow + d + 1, dq[dn][1]);
        }
        if (q1 < a.t) {
          atomicAdd(dqAcc + qBase + int64_t(q1) * qRow + d, dq[dn][2]);
          atomicAdd(dqAcc + qBase + int64_t(q1) * qRow + d + 1, dq[dn][3]);
        }
      }
    }
  }

  if (!any) return;
#pragma unroll
  for (int dn = 0; dn < L::ND; dn++) {
    const int d = dn * 8 + 2 * tq;
    if (key0 < a.s) {
      const int64_t o = kBase + int64_t(key0) * kRow + d;
      atomicAdd(dkAcc + o, dk[dn][0]);
      atomicAdd(dkAcc + o + 1, dk[dn][1]);
      atomicAdd(dvAcc + o, dv[dn][0]);
      atomicAdd(dvAcc + o + 1, dv[dn][1]);
    }
    if (key1 < a.s) {
      const int64_t o = kBase + int64_t(key1) * kRow + d;
      atomicAdd(dkAcc + o, dk[dn][2]);
      atomicAdd(dkAcc + o + 1, dk[dn][3]);
      atomicAdd(dvAcc + o, dv[dn][2]);
      atomicAdd(dvAcc + o + 1, dv[dn][3]);
    }
  }
}

template <typename T, int HD>
int launch(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, float* dqAcc, float* dkAcc, float* dvAcc, float* delta,
           const AttnShape& a) {
  const char* name = "attentionBackward (flash)";
  const size_t bytes = Tile<HD>::bytes();
  if (int(bytes) > maxSmemOptin()) return fail(name, "needs %zu bytes of shared memory, the device allows %d", bytes, maxSmemOptin());
  if (attnDelta(out, dOut, delta, a)) return -1;
  if (checkCuda(cudaFuncSetAttribute(backwardKernel<T, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)), name,
                "cudaFuncSetAttribute"))
    return -1;
  const dim3 grid(unsigned((a.s + BC - 1) / BC), unsigned(a.h), unsigned(a.b));
  backwardKernel<T, HD><<<grid, THREADS, bytes, stream()>>>(in, lse, dOut, delta, dqAcc, dkAcc, dvAcc, a);
  return checkLaunch(name);
}

}  // namespace

template <typename T>
int attnFlashBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, float* dqAcc, float* dkAcc, float* dvAcc,
                      float* delta, const AttnShape& a) {
  if (a.d == 64) return launch<T, 64>(in, out, lse, dOut, dqAcc, dkAcc, dvAcc, delta, a);
  if (a.d == 128) return launch<T, 128>(in, out, lse, dOut, dqAcc, dkAcc, dvAcc, delta, a);
  return fail("attentionBackward (flash)", "head dim %d: the register-resident kernel takes 64 or 128", a.d);
}

template int attnFlashBackward<float>(const AttnIn<float>&, const float*, const float*, const float*, float*, float*, float*, float*,
                                      const AttnShape&);
template int attnFlashBackward<bf16>(const AttnIn<bf16>&, const bf16*, const float*, const bf16*, float*, float*, float*, float*,
                                     const AttnShape&);

}  // namespace lwz
