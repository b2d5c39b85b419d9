// attentionForward: causal GQA with KV prefix and left padding, flash-style. Each task is one (row, query
// head, tile of 32 queries); it walks the visible keys in tiles of 64 with an online softmax (running max m,
// running sum l, rescaled accumulator), so memory is O(tile * D) per thread and never a (T, S) score matrix.
#include "attention.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {
namespace {

size_t fwdScratch(long d) { return static_cast<size_t>(2 * kQTile * d + d * kKTile + kKTile); }

LWZ_CLONES
void forwardTile(const AttnDims& a, const FwdIo& io, long bb, long hh, long i0, float* work) {
  const long d = a.d, g = hh / (a.h / a.hkv), nq = minL(kQTile, a.t - i0), lo = a.lo(bb);
  float* qs = work;             // (kQTile, D) scaled queries
  float* o = qs + kQTile * d;   // (kQTile, D) unnormalised output
  float* kt = o + kQTile * d;   // (D, kKTile) transposed key tile
  float* sc = kt + d * kKTile;  // (kKTile,) one row of scores, then probabilities
  float m[kQTile], l[kQTile];
  for (long r = 0; r < nq; r++) {
    const float* src = io.q + a.qRow(bb, i0 + r, hh);
    for (long x = 0; x < d; x++) {
      qs[r * d + x] = src[x] * a.scale;
      o[r * d + x] = 0.0f;
    }
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }
  const long hiMax = a.hi(bb, i0 + nq - 1);
  for (long j0 = lo; j0 <= hiMax; j0 += kKTile) {
    const long nk = minL(kKTile, hiMax + 1 - j0);
    transposeKeys(a, io.k, bb, g, j0, nk, kt);
    for (long r = 0; r < nq; r++) {
      const long valid = minL(nk, a.hi(bb, i0 + r) + 1 - j0);  // keys j0 .. j0 + valid - 1 are visible
      if (valid <= 0) continue;
      scoreRow(qs + r * d, kt, d, sc);
      const float mx = maxF32(sc, valid, m[r]);
      const float corr = fastExp(m[r] - mx);
      for (long j = 0; j < valid; j++) sc[j] = fastExp(sc[j] - mx);
      const float sum = sumF32(valid, [&](long j) { return sc[j]; });
      l[r] = l[r] * corr + sum;
      m[r] = mx;
      float* orow = o + r * d;
      for (long x = 0; x < d; x++) orow[x] *= corr;
      for (long j = 0; j < valid; j++) {
        const float p = sc[j];
        const float* vrow = io.v + a.kRow(bb, j0 + j, g);
        for (long x = 0; x < d; x++) orow[x] += p * vrow[x];
      }
    }
  }
  for (long r = 0; r < nq; r++) {
    float* dst = io.out + a.qRow(bb, i0 + r, hh);
    const bool none = l[r] == 0.0f;
    const float inv = none ? 0.0f : 1.0f / l[r];
    for (long x = 0; x < d; x++) dst[x] = o[r * d + x] * inv;
    io.lse[a.lseAt(bb, hh, i0 + r)] = none ? -INFINITY : m[r] + std::log(l[r]);
  }
}

}  // namespace

// (q, k, v, qOffset, kvStart, out, lse, b, t, s, h, hkv, d, scale)
napi_value attentionForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "attentionForward");
  FwdIo io{in.f32(0), in.f32(1), in.f32(2), in.f32(5), in.f32(6)};
  AttnDims a{in.integer(7), in.integer(8),  in.integer(9),       in.integer(10),
             in.integer(11), in.integer(12), static_cast<float>(in.num(13)), in.i32(3), in.i32(4)};
  if (!in.ok) return nullptr;
  // Prefill-sized query blocks go through the packed micro-kernels; decode-sized ones row by row.
  const bool packed = a.t >= 16;
  const long tile = packed ? kPackedQTile : kQTile, qTiles = ceilDiv(a.t, tile);
  const size_t need = packed ? packedForwardScratch(a.d) : fwdScratch(a.d);
  const double work = static_cast<double>(a.b) * a.h * a.t * minL(a.s, a.t + 64) * a.d;
  KvPanels kCols{}, vDepth{};
  if (packed) {
    kCols = packKv(a, io.k, KvLayout::cols, 0, work > 2.0e5);
    vDepth = packKv(a, io.v, KvLayout::depth, 1, work > 2.0e5);
  }
  parallelFor(
      a.b * a.h * qTiles,
      [&](long task, int tid) {
        const long bb = task / (a.h * qTiles), hh = task / qTiles % a.h, it = task % qTiles;
        float* work = scratch(kWork, tid, need);
        if (packed) forwardTilePacked(a, io, kCols, vDepth, bb, hh, it * tile, work);
        else forwardTile(a, io, bb, hh, it * tile, work);
      },
      work > 2.0e5);
  return undefined(env);
}

}  // namespace lwz
