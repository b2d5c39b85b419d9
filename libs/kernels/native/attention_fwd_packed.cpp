// The prefill path of attentionForward: per (row, head, 48-query tile) the score tile S = Q K^T and the
// update O += P V run on the GEMM register-tile micro-kernels (K and V packed once per call, attention_pack.cpp;
// same ISA dispatch as matmul), with the online softmax in between. Memory O(tile * D) per thread plus the
// packed K and V; never a (T, S) matrix.
#include "attention.h"
#include "gemm.h"

namespace lwz {
namespace {

// One row of the online softmax: turns scores s[0:valid] into probabilities (0 past valid), updates the
// running max m and sum l, and returns the factor the row's accumulator must be rescaled by.
LWZ_CLONES float softmaxStep(float* s, long valid, float& m, float& l) {
  for (long j = valid; j < kKTile; j++) s[j] = 0.0f;
  if (valid <= 0) return 1.0f;  // nothing visible in this tile: leave m (maybe -inf) and l alone
  const float mx = maxF32(s, valid, m);
  const float corr = fastExp(m - mx);
  for (long j = 0; j < valid; j++) s[j] = fastExp(s[j] - mx);
  const float sum = sumF32(valid, [&](long j) { return s[j]; });
  l = l * corr + sum;
  m = mx;
  return corr;
}

// Scores of keys below the row's first visible key (kvStart) are -inf, so the softmax gives them 0.
LWZ_CLONES void maskBefore(float* s, long n) {
  for (long j = 0; j < n; j++) s[j] = -INFINITY;
}

LWZ_CLONES void scaleAll(float* x, long n, float alpha) {
  for (long j = 0; j < n; j++) x[j] *= alpha;
}

}  // namespace

size_t packedForwardScratch(long d) {
  const long dp = roundUp(d, 32);
  return static_cast<size_t>(kPackedQTile * d + 2 * kPackedQTile * kKTile + kPackedQTile * dp);
}

void forwardTilePacked(const AttnDims& a, const FwdIo& io, const KvPanels& kCols, const KvPanels& vDepth, long bb, long hh,
                       long i0, float* work) {
  const GemmKernels& kk = kernelsFor(isa());
  const long mr = kk.mr, nr = kk.nr, d = a.d, dp = kCols.dp, tq = kPackedQTile;
  const long g = hh / (a.h / a.hkv), nq = minL(tq, a.t - i0), lo = a.lo(bb);
  float* qa = work;              // Q tile as MR-row panels, depth D, pre-scaled
  float* sc = qa + tq * d;       // (tq, kKTile) scores, then probabilities
  float* pa = sc + tq * kKTile;  // P as MR-row panels, depth nk
  float* o = pa + tq * kKTile;   // (tq, dp) unnormalised output
  float m[kPackedQTile], l[kPackedQTile];
  packA(io.q + a.qRow(bb, i0, hh), a.h * d, 1, nq, 0, tq, 0, d, static_cast<int>(mr), qa);
  scaleAll(qa, tq * d, a.scale);
  for (long r = 0; r < tq; r++) {
    for (long x = 0; x < dp; x++) o[r * dp + x] = 0.0f;
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }
  const long hiMax = a.hi(bb, i0 + nq - 1);
  for (long t = lo / kKTile; t * kKTile <= hiMax; t++) {
    const long j0 = t * kKTile, nk = minL(kKTile, a.s - j0), first = maxL(0, lo - j0);
    const float* kb = kCols.tile(bb, g, a.hkv, t);
    const float* vb = vDepth.tile(bb, g, a.hkv, t);
    for (long ir = 0; ir < tq; ir += mr)
      for (long jr = 0; jr < kKTile; jr += nr)
        kk.micro(d, qa + ir * d, kb + jr * d, sc + ir * kKTile + jr, kKTile, 1.0f, false, kk.mr, kk.nr);
    for (long r = 0; r < tq; r++) {
      float* srow = sc + r * kKTile;
      long valid = r < nq ? minL(nk, a.hi(bb, i0 + r) + 1 - j0) : 0;
      if (valid <= first) valid = 0;  // nothing visible to this row in this tile
      else maskBefore(srow, first);
      const float corr = softmaxStep(srow, valid, m[r], l[r]);
      if (corr != 1.0f)
        for (long x = 0; x < d; x++) o[r * dp + x] *= corr;
    }
    packA(sc, kKTile, 1, tq, 0, tq, 0, nk, static_cast<int>(mr), pa);
    for (long ir = 0; ir < tq; ir += mr)
      for (long xc = 0; xc < dp; xc += nr) kk.micro(nk, pa + ir * nk, vb + xc * nk, o + ir * dp + xc, dp, 1.0f, true, kk.mr, kk.nr);
  }
  for (long r = 0; r < nq; r++) {
    float* dst = io.out + a.qRow(bb, i0 + r, hh);
    const bool none = l[r] == 0.0f;
    const float inv = none ? 0.0f : 1.0f / l[r];
    for (long x = 0; x < d; x++) dst[x] = o[r * dp + x] * inv;
    io.lse[a.lseAt(bb, hh, i0 + r)] = none ? -INFINITY : m[r] + std::log(l[r]);
  }
}

}  // namespace lwz
