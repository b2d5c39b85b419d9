// The generic row passes of rowstats.h (plain C++ vectorised by the compiler, not rowpass_impl.h's one-sweep
// scans), and the choice among the three by isa(). fastExp is 0 below -87 (-inf included), as the exp pass of
// the vector paths is. NaN rows: the max may skip a NaN, the sum does not, as in the vector paths.
#include <cmath>

#include "rowstats.h"
#include "vecmath.h"

namespace lwz {
namespace {

// The generic passes are the pre-explicit-SIMD C++ (two or three sweeps per row), compiled three times
// (LWZ_CLONES) so a CPU without AVX2 still gets the compiler's SSE vectorisation.
LWZ_CLONES double lseGeneric(const float* x, long v) {
  const float mx = maxF32(x, v, -INFINITY);
  if (mx == -INFINITY || mx == INFINITY) return mx;
  const double sum = sumBlocks(v, [&](long j) { return fastExp(x[j] - mx); });
  return mx + std::log(sum);
}

LWZ_CLONES double entropyGeneric(const float* x, long v) {
  const double lse = lseGeneric(x, v);
  if (lse != lse) return lse;  // NaN in, NaN out (the terms below would skip it)
  return sumF64(v, [&](long j) {
    const float lp = static_cast<float>(x[j] - lse);
    return lp > -INFINITY ? -static_cast<double>(fastExp(lp)) * lp : 0.0;
  });
}

LWZ_CLONES void shiftGeneric(const float* x, float* o, long v, float hi, float lo, bool) {
  for (long j = 0; j < v; j++) o[j] = (x[j] - hi) - lo;
}

LWZ_CLONES void expGeneric(const float* x, float* o, long v, float hi, float lo, float s, bool) {
  for (long j = 0; j < v; j++) o[j] = s * fastExp((x[j] - hi) - lo);
}

LWZ_CLONES void rmsBwdGeneric(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c, bool) {
  const double dot = sumF32(c, [&](long j) { return dy[j] * w[j] * x[j]; });
  const float k = static_cast<float>(static_cast<double>(rs) * rs * rs * dot / c);
  for (long j = 0; j < c; j++) {
    const float d = dy[j];
    blk[j] += d * x[j] * rs;
    dx[j] = rs * d * w[j] - k * x[j];
  }
}

}  // namespace

const RowPasses& rowPasses() {
  static const RowPasses generic = {lseGeneric, entropyGeneric, shiftGeneric, expGeneric, nullptr, rmsBwdGeneric, nullptr, nullptr};
  switch (isa()) {
    case Isa::avx512:
      return rowPassesAvx512();
    case Isa::avx2:
      return rowPassesAvx2();
    default:
      return generic;
  }
}

}  // namespace lwz
