// Row-wise softmax / log-softmax of x (N, V) into out (N, V) (out may alias x), max-shifted, sums in float64.
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"

namespace lwz {
namespace {

LWZ_CLONES void softmaxRows(const float* x, float* out, long r0, long r1, long v, bool log) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * v;
    float* o = out + r * v;
    if (r + 1 < r1) prefetchRow(xr + v, v);
    const double lse = rowLse(xr, v);
    // lse as float hi + lo: x - lse in float with one extra rounding, no float64 per element
    const float hi = static_cast<float>(lse), lo = std::isfinite(lse) ? static_cast<float>(lse - hi) : 0.0f;
    if (log)
      for (long j = 0; j < v; j++) o[j] = (xr[j] - hi) - lo;
    else
      for (long j = 0; j < v; j++) o[j] = fastExp((xr[j] - hi) - lo);
  }
}

}  // namespace

// (x, out, n, v, log)
napi_value softmaxForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "softmaxForward");
  const float* x = in.f32(0);
  float* out = in.f32(1);
  const long n = in.integer(2), v = in.integer(3);
  const bool log = in.flag(4);
  if (!in.ok) return nullptr;
  parallelRange(n, rowGrainFor(v), [&](long lo, long hi) { softmaxRows(x, out, lo, hi, v, log); });
  return undefined(env);
}

}  // namespace lwz
