// The prefill path of attentionBackward (FlashAttention-2's tile algebra on the GEMM micro-kernels): one task
// owns a (row, kv head): for each query tile of the group's query heads it walks the visible key tiles (K and
// V packed once per call, attention_pack.cpp), recomputes S = Q K^T and dP = dO V^T, forms P = exp(S scale -
// lse) and dS = P (dP - delta) scale, and accumulates dQ += dS K (a tile accumulator) and dV += P^T dO,
// dK += dS^T Q straight into dv, dk (only this task writes them). Five small GEMMs per tile pair, no
// recomputation pass, no atomics. Memory O(tile * D) per thread plus the packed K and V.
#include "attention.h"
#include "gemm.h"

namespace lwz {
namespace {

constexpr long QT = kPackedQTile;  // queries per tile (a multiple of every MR)
constexpr long KT = kKTile;        // keys per tile (a multiple of every NR)
constexpr long KTA = KT + 16;      // rows of a key-major A-panel buffer: KT rounded up to any MR <= 16

// c (rows, cols; ldc) (+)= packed A panels (rows x depth) times packed B panels (depth x cols)
void tileGemm(const GemmKernels& kk, long depth, const float* ap, const float* bp, float* c, long ldc, long rows, long cols,
              bool accumulate) {
  for (long ir = 0; ir < rows; ir += kk.mr)
    for (long jr = 0; jr < cols; jr += kk.nr)
      kk.micro(depth, ap + ir * depth, bp + jr * depth, c + ir * ldc + jr, ldc, 1.0f, accumulate,
               static_cast<int>(minL(kk.mr, rows - ir)), static_cast<int>(minL(kk.nr, cols - jr)));
}

struct Work {
  float *qA, *oA;       // Q, dO tile as (QT, D) A panels
  float *qB, *oB;       // Q, dO tile as (QT, Dp) B panels (depth: queries)
  float *s, *dp;        // (QT, KT) scores S, then P; dP, then dS
  float *pT, *sT, *sA;  // P^T, dS^T as (KTA, QT) A panels; dS as (QT, KT) A panels
  float* dQ;            // (QT, Dp) accumulator
};

Work carve(float* w, long d) {
  const long dp = roundUp(d, 32);
  Work x;
  x.qA = w;
  x.oA = x.qA + QT * d;
  x.qB = x.oA + QT * d;
  x.oB = x.qB + QT * dp;
  x.s = x.oB + QT * dp;
  x.dp = x.s + QT * KT;
  x.pT = x.dp + QT * KT;
  x.sT = x.pT + KTA * QT;
  x.sA = x.sT + KTA * QT;
  x.dQ = x.sA + QT * KT;
  return x;
}

// One query row of the tile: s (KT) scores -> P, dp (KT) dO.v -> dS; keys outside [first, end) get 0.
LWZ_CLONES void softmaxGrad(float* s, float* dp, long first, long end, float scale, float lse, float delta) {
  for (long j = 0; j < KT; j++) {
    const float p = j >= first && j < end ? fastExp(s[j] * scale - lse) : 0.0f;
    s[j] = p;
    dp[j] = p * (dp[j] - delta) * scale;
  }
}

}  // namespace

size_t packedBackwardScratch(long d) {
  const long dp = roundUp(d, 32);
  return static_cast<size_t>(2 * QT * d + 3 * QT * dp + 3 * QT * KT + 2 * KTA * QT);
}

void backwardGroupPacked(const AttnDims& a, const BwdIo& io, const KvPanels& kCols, const KvPanels& vCols,
                         const KvPanels& kDepth, long bb, long g, float* work) {
  const GemmKernels& kk = kernelsFor(isa());
  const int mr = kk.mr, nr = kk.nr;
  const long d = a.d, dp = kCols.dp, group = a.h / a.hkv, lo = a.lo(bb);
  const long ldq = a.h * d, ldk = a.ks;
  const Work w = carve(work, d);
  for (long j = 0; j < a.s; j++)
    for (long x = 0; x < d; x++) io.dk[a.kRow(bb, j, g) + x] = io.dv[a.kRow(bb, j, g) + x] = 0.0f;
  for (long hh = g * group; hh < (g + 1) * group; hh++) {
    for (long i0 = 0; i0 < a.t; i0 += QT) {
      const long nq = minL(QT, a.t - i0), hiMax = a.hi(bb, i0 + nq - 1);
      const float* qt = io.q + a.qRow(bb, i0, hh);
      const float* ot = io.dOut + a.qRow(bb, i0, hh);
      packA(qt, ldq, 1, nq, 0, QT, 0, d, mr, w.qA);
      packA(ot, ldq, 1, nq, 0, QT, 0, d, mr, w.oA);
      packB(qt, ldq, 1, d, 0, dp, 0, nq, nr, w.qB);  // Q (queries, D)
      packB(ot, ldq, 1, d, 0, dp, 0, nq, nr, w.oB);  // dO (queries, D)
      for (long x = 0; x < QT * dp; x++) w.dQ[x] = 0.0f;
      for (long t = lo / KT; t * KT <= hiMax; t++) {
        const long j0 = t * KT, nk = minL(KT, a.s - j0), first = maxL(0, lo - j0);
        tileGemm(kk, d, w.qA, kCols.tile(bb, g, a.hkv, t), w.s, KT, nq, nk, false);   // S = Q K^T
        tileGemm(kk, d, w.oA, vCols.tile(bb, g, a.hkv, t), w.dp, KT, nq, nk, false);  // dP = dO V^T
        for (long r = 0; r < nq; r++) {
          const long at = a.lseAt(bb, hh, i0 + r);
          const float lse = io.lse[at];
          const long end = lse == -INFINITY ? 0 : minL(nk, a.hi(bb, i0 + r) + 1 - j0);
          softmaxGrad(w.s + r * KT, w.dp + r * KT, first, end, a.scale, lse, io.delta[at]);
        }
        packA(w.s, 1, KT, nk, 0, nk, 0, nq, mr, w.pT);   // P^T (keys, queries)
        packA(w.dp, 1, KT, nk, 0, nk, 0, nq, mr, w.sT);  // dS^T (keys, queries)
        packA(w.dp, KT, 1, nq, 0, nq, 0, nk, mr, w.sA);  // dS (queries, keys)
        tileGemm(kk, nq, w.pT, w.oB, io.dv + a.kRow(bb, j0, g), ldk, nk, d, true);  // dV += P^T dO
        tileGemm(kk, nq, w.sT, w.qB, io.dk + a.kRow(bb, j0, g), ldk, nk, d, true);  // dK += dS^T Q
        tileGemm(kk, nk, w.sA, kDepth.tile(bb, g, a.hkv, t), w.dQ, dp, nq, d, true);  // dQ += dS K
      }
      for (long r = 0; r < nq; r++)
        for (long x = 0; x < d; x++) io.dq[a.qRow(bb, i0 + r, hh) + x] = w.dQ[r * dp + x];
    }
  }
}

}  // namespace lwz
