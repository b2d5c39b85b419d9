// The prefill path of attentionForward: per (row, head, 48-query tile) the score tile S = Q K^T and the
// update O += P V run on the GEMM register-tile micro-kernels (packed panels, same ISA dispatch as matmul),
// with the online softmax in between. Memory stays O(tile * D) per thread; never a (T, S) matrix.
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

}  // namespace

size_t packedForwardScratch(long d) {
  const long dp = roundUp(d, 32);
  return static_cast<size_t>(kPackedQTile * d + d * kKTile + 2 * kPackedQTile * kKTile + kKTile * dp + kPackedQTile * dp);
}

void forwardTilePacked(const AttnDims& a, const FwdIo& io, long bb, long hh, long i0, float* work) {
  const GemmKernels& kk = kernelsFor(isa());
  const long mr = kk.mr, nr = kk.nr, d = a.d, dp = roundUp(d, 32), tq = kPackedQTile;
  const long g = hh / (a.h / a.hkv), nq = minL(tq, a.t - i0), lo = a.lo(bb);
  float* qa = work;             // Q tile as MR-row panels, depth D, pre-scaled
  float* kb = qa + tq * d;      // K tile as NR-key panels, depth D
  float* sc = kb + d * kKTile;  // (tq, kKTile) scores, then probabilities
  float* pa = sc + tq * kKTile; // P as MR-row panels, depth kKTile
  float* vb = pa + tq * kKTile; // V tile as NR-column panels, depth kKTile
  float* o = vb + kKTile * dp;  // (tq, dp) unnormalised output
  float m[kPackedQTile], l[kPackedQTile];
  for (long r = 0; r < tq; r++) {
    const float* src = r < nq ? io.q + a.qRow(bb, i0 + r, hh) : nullptr;
    float* panel = qa + (r / mr) * mr * d;
    for (long x = 0; x < d; x++) panel[x * mr + r % mr] = src ? src[x] * a.scale : 0.0f;
    for (long x = 0; x < dp; x++) o[r * dp + x] = 0.0f;
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }
  const long hiMax = a.hi(bb, i0 + nq - 1);
  for (long j0 = lo; j0 <= hiMax; j0 += kKTile) {
    const long nk = minL(kKTile, hiMax + 1 - j0);
    for (long j = 0; j < kKTile; j++) {
      const float* krow = j < nk ? io.k + a.kRow(bb, j0 + j, g) : nullptr;
      const float* vrow = j < nk ? io.v + a.kRow(bb, j0 + j, g) : nullptr;
      float* kpanel = kb + (j / nr) * nr * d;
      for (long x = 0; x < d; x++) kpanel[x * nr + j % nr] = krow ? krow[x] : 0.0f;
      for (long x = 0; x < dp; x++) vb[(x / nr) * nr * kKTile + j * nr + x % nr] = vrow && x < d ? vrow[x] : 0.0f;
    }
    for (long ir = 0; ir < tq; ir += mr)
      for (long jr = 0; jr < kKTile; jr += nr)
        kk.micro(d, qa + ir * d, kb + jr * d, sc + ir * kKTile + jr, kKTile, 1.0f, false, kk.mr, kk.nr);
    for (long r = 0; r < tq; r++) {
      float* srow = sc + r * kKTile;
      const long valid = r < nq ? maxL(0, minL(nk, a.hi(bb, i0 + r) + 1 - j0)) : 0;
      const float corr = softmaxStep(srow, valid, m[r], l[r]);
      if (corr != 1.0f)
        for (long x = 0; x < d; x++) o[r * dp + x] *= corr;
      float* panel = pa + (r / mr) * mr * kKTile;
      for (long j = 0; j < kKTile; j++) panel[j * mr + r % mr] = srow[j];
    }
    for (long ir = 0; ir < tq; ir += mr)
      for (long xc = 0; xc < dp; xc += nr)
        kk.micro(kKTile, pa + ir * kKTile, vb + xc * kKTile, o + ir * dp + xc, dp, 1.0f, true, kk.mr, kk.nr);
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
