// The generic (one-lane) row passes of rowstats.h, and the choice among them by isa(). The one-lane code
// is plain C++ over floats; fastExp is 0 below -87, so the lse's terms and the exp pass match the vector paths.
#include <cmath>

#include "rowstats.h"
#include "vecmath.h"

#define LWZ_ROWPASS_NS generic
#include "rowpass_impl.h"

namespace lwz {
namespace {

struct V1 {
  using T = float;
  static constexpr long W = 1;
  static T load(const float* p) { return *p; }
  static T loadPart(const float* p, long, float) { return *p; }
  static void store(float* p, T a) { *p = a; }
  static void storePart(float* p, long, T a) { *p = a; }
  static T set1(float a) { return a; }
  static T zero() { return 0.0f; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T fma(T a, T b, T c) { return a * b + c; }
  static T max(T a, T b) { return b > a ? b : a; }
  static float reduceMax(T a) { return a; }
  static double reduceAdd(T a) { return a; }
  static T clamp(T d) { return d < -87.0f ? -87.0f : d; }
  static T expTerm(T c) { return fastExp(c); }
  static T exp(T d) { return fastExp(d); }
};

double lseGeneric(const float* x, long v) { return generic::lse<V1>(x, v); }
double entropyGeneric(const float* x, long v) { return generic::entropy<V1>(x, v); }
void shiftGeneric(const float* x, float* o, long v, float hi, float lo) { generic::shiftRow<V1>(x, o, v, hi, lo); }
void expGeneric(const float* x, float* o, long v, float hi, float lo, float s) { generic::expRow<V1>(x, o, v, hi, lo, s); }

void rmsBwdGeneric(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c) {
  generic::rmsnormBackwardRow<V1>(dy, x, w, rs, dx, blk, c);
}
}  // namespace

const RowPasses& rowPasses() {
  static const RowPasses generic = {lseGeneric, entropyGeneric, shiftGeneric, expGeneric, rmsBwdGeneric};
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
