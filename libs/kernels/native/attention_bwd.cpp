// attentionBackward, FlashAttention-2 style: scores are recomputed tile by tile from the saved lse, never
// stored as (T, S). delta = rowsum(dOut * out) is computed first, O(B H T). Prefill-sized inputs with at
// least one (row, kv head) per thread take the packed one-pass path (attention_bwd_packed.cpp); otherwise two
// row-at-a-time passes, each race-free without atomics: dk/dv per (row, kv head, key tile) walking the
// queries that see those keys (all query heads of the group), then dq per (row, query head, query tile).
#include "attention.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {
namespace {

size_t bwdScratch(long d) { return static_cast<size_t>(2 * d * kKTile + 2 * kKTile * d + 2 * kKTile); }

// dk, dv for keys j0 .. j0 + nk - 1 of (row bb, kv head g).
LWZ_CLONES
void keyTile(const AttnDims& a, const BwdIo& io, long bb, long g, long j0, float* work) {
  const long d = a.d, group = a.h / a.hkv, nk = minL(kKTile, a.s - j0), lo = a.lo(bb);
  float* kt = work;               // (D, kKTile) transposed keys
  float* vt = kt + d * kKTile;    // (D, kKTile) transposed values
  float* dK = vt + d * kKTile;    // (kKTile, D)
  float* dV = dK + kKTile * d;    // (kKTile, D)
  float* sc = dV + kKTile * d;    // (kKTile,) scores, then probabilities
  float* dp = sc + kKTile;        // (kKTile,) dOut . v_j
  for (long x = 0; x < kKTile * d; x++) dK[x] = dV[x] = 0.0f;
  transposeKeys(a, io.k, bb, g, j0, nk, kt);
  transposeKeys(a, io.v, bb, g, j0, nk, vt);
  const long jStart = maxL(0, lo - j0);
  const long iFirst = maxL(0, j0 - static_cast<long>(a.qOffset[bb]));
  for (long hh = g * group; hh < (g + 1) * group && jStart < nk; hh++) {
    for (long i = iFirst; i < a.t; i++) {
      const float lse = io.lse[a.lseAt(bb, hh, i)];
      const long jEnd = minL(nk, a.hi(bb, i) + 1 - j0);
      if (jEnd <= jStart || lse == -INFINITY) continue;
      const float* q = io.q + a.qRow(bb, i, hh);
      const float* dO = io.dOut + a.qRow(bb, i, hh);
      const float delta = io.delta[a.lseAt(bb, hh, i)];
      scoreRow(q, kt, d, sc);
      scoreRow(dO, vt, d, dp);
      for (long j = jStart; j < jEnd; j++) {
        const float p = fastExp(sc[j] * a.scale - lse);
        const float ds = p * (dp[j] - delta) * a.scale;
        float* dk = dK + j * d;
        float* dv = dV + j * d;
        for (long x = 0; x < d; x++) {
          dv[x] += p * dO[x];
          dk[x] += ds * q[x];
        }
      }
    }
  }
  for (long j = 0; j < nk; j++) {
    float* dk = io.dk + a.kRow(bb, j0 + j, g);
    float* dv = io.dv + a.kRow(bb, j0 + j, g);
    for (long x = 0; x < d; x++) {
      dk[x] = dK[j * d + x];
      dv[x] = dV[j * d + x];
    }
  }
}

// dq for queries i0 .. i0 + kQTile - 1 of (row bb, query head hh).
LWZ_CLONES
void queryTile(const AttnDims& a, const BwdIo& io, long bb, long hh, long i0, float* work) {
  const long d = a.d, g = hh / (a.h / a.hkv), nq = minL(kQTile, a.t - i0), lo = a.lo(bb);
  float* kt = work;
  float* vt = kt + d * kKTile;
  float* sc = vt + d * kKTile;
  float* dp = sc + kKTile;
  float* dQ = dp + kKTile;  // (kQTile, D)
  for (long x = 0; x < nq * d; x++) dQ[x] = 0.0f;
  const long hiMax = a.hi(bb, i0 + nq - 1);
  for (long j0 = lo; j0 <= hiMax; j0 += kKTile) {
    const long nk = minL(kKTile, hiMax + 1 - j0);
    transposeKeys(a, io.k, bb, g, j0, nk, kt);
    transposeKeys(a, io.v, bb, g, j0, nk, vt);
    for (long r = 0; r < nq; r++) {
      const long i = i0 + r;
      const float lse = io.lse[a.lseAt(bb, hh, i)];
      const long valid = minL(nk, a.hi(bb, i) + 1 - j0);
      if (valid <= 0 || lse == -INFINITY) continue;
      const float delta = io.delta[a.lseAt(bb, hh, i)];
      scoreRow(io.q + a.qRow(bb, i, hh), kt, d, sc);
      scoreRow(io.dOut + a.qRow(bb, i, hh), vt, d, dp);
      float* dq = dQ + r * d;
      for (long j = 0; j < valid; j++) {
        const float p = fastExp(sc[j] * a.scale - lse);
        const float ds = p * (dp[j] - delta) * a.scale;
        const float* k = io.k + a.kRow(bb, j0 + j, g);
        for (long x = 0; x < d; x++) dq[x] += ds * k[x];
      }
    }
  }
  for (long r = 0; r < nq; r++) {
    float* dst = io.dq + a.qRow(bb, i0 + r, hh);
    for (long x = 0; x < d; x++) dst[x] = dQ[r * d + x];
  }
}

}  // namespace

// (q, k, v, qOffset, kvStart, out, lse, dOut, dq, dk, dv, b, t, s, h, hkv, d, scale)
napi_value attentionBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "attentionBackward");
  BwdIo io{in.f32(0), in.f32(1), in.f32(2), in.f32(5), in.f32(6), in.f32(7), in.f32(8), in.f32(9), in.f32(10), nullptr};
  AttnDims a{in.integer(11), in.integer(12), in.integer(13),       in.integer(14),
             in.integer(15), in.integer(16), static_cast<float>(in.num(17)), in.i32(3), in.i32(4)};
  a.setKvLayout(false);  // the op allows only (B, S, Hkv, D) here: the head-major layout is the inference cache's
  if (!in.ok) return nullptr;
  const double work = static_cast<double>(a.b) * a.h * a.t * minL(a.s, a.t + 64) * a.d;
  const bool parallel = work > 1.0e5;
  io.delta = scratch(kWork2, 0, static_cast<size_t>(a.b * a.h * a.t));
  parallelFor(
      a.b * a.h,
      [&](long bh, int) {
        const long bb = bh / a.h, hh = bh % a.h;
        for (long i = 0; i < a.t; i++) {
          const float* o = io.out + a.qRow(bb, i, hh);
          const float* dO = io.dOut + a.qRow(bb, i, hh);
          float s = 0.0f;
          for (long x = 0; x < a.d; x++) s += o[x] * dO[x];
          io.delta[a.lseAt(bb, hh, i)] = s;
        }
      },
      parallel);
  if (a.t >= 16 && a.b * a.hkv >= threads()) {
    const size_t packedNeed = packedBackwardScratch(a.d);
    const KvPanels kCols = packKv(a, io.k, KvLayout::cols, 0, parallel);
    const KvPanels vCols = packKv(a, io.v, KvLayout::cols, 1, parallel);
    const KvPanels kDepth = packKv(a, io.k, KvLayout::depth, 2, parallel);
    parallelFor(
        a.b * a.hkv,
        [&](long task, int tid) {
          backwardGroupPacked(a, io, kCols, vCols, kDepth, task / a.hkv, task % a.hkv, scratch(kWork, tid, packedNeed));
        },
        parallel);
    return undefined(env);
  }
  const size_t need = bwdScratch(a.d) + static_cast<size_t>(kQTile * a.d);
  const long kTiles = ceilDiv(a.s, kKTile), qTiles = ceilDiv(a.t, kQTile);
  parallelFor(
      a.b * a.hkv * kTiles,
      [&](long task, int tid) {
        const long bb = task / (a.hkv * kTiles), g = task / kTiles % a.hkv, jt = task % kTiles;
        keyTile(a, io, bb, g, jt * kKTile, scratch(kWork, tid, need));
      },
      parallel);
  parallelFor(
      a.b * a.h * qTiles,
      [&](long task, int tid) {
        const long bb = task / (a.h * qTiles), hh = task / qTiles % a.h, it = task % qTiles;
        queryTile(a, io, bb, hh, it * kQTile, scratch(kWork, tid, need));
      },
      parallel);
  return undefined(env);
}

}  // namespace lwz
