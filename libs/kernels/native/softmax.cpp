// Row-wise softmax / log-softmax of x (N, V) into out (N, V) (out may alias x): per row the one-pass log-sum-exp
// of rowstats.h, then the write pass. Not fused across rows (see softmaxRows).
#include <immintrin.h>

#include <cmath>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"

namespace lwz {
namespace {

// Each row scanned, then written. Writing row r inside row r + 1's scan (256-value blocks, loads and stores
// interleaved) measured 0.71-0.78x of this on Zen 4, a software prefetch of the next row 0.69-0.83x, and
// scanning groups of 8 rows before writing them 0.89x. The log-softmax write pass prefetches the next row's lines
// into L2 (rowpass_impl.h prefetchNextRow), so reads stay in flight while a row is written.
void softmaxRows(const RowPasses& rp, const float* x, float* out, long r0, long r1, long v, bool log, bool stream) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * v;
    float* o = out + r * v;
    const double lse = rp.lse(xr, v);
    // lse as float hi + lo: x - lse in float with one extra rounding, no float64 per element
    const float hi = static_cast<float>(lse), lo = std::isfinite(lse) ? static_cast<float>(lse - hi) : 0.0f;
    if (log)
      rp.shift(xr, o, v, hi, lo, stream);
    else
      rp.exp(xr, o, v, hi, lo, 1.0f, stream);
  }
  if (stream) _mm_sfence();  // the streamed rows are visible before this chunk counts as done
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
  const RowPasses& rp = rowPasses();
  // reads x and writes out once: 8 n v bytes; streamed only when out is a separate buffer
  const bool stream = out != x && streamOutput(8.0 * n * v);
  parallelRange(n, rowGrainFor(v), [&](long lo, long hi) { softmaxRows(rp, x, out, lo, hi, v, log, stream); });
  return undefined(env);
}

}  // namespace lwz
