// Row-wise softmax / log-softmax of x (N, V) into out (N, V) (out may alias x): per row the one-pass log-sum-exp
// of rowstats.h and the write pass, on AVX-512 and AVX2 the log-softmax's write of a row inside the next row's scan
// (softmaxRows; when streaming was asked for, common.h streamArithmeticOutput, streamed vector by vector within each
// whole later block, after the first with a finite max: rowpass_impl.h lseShiftPrev). Not fused across chunks of rows.
#include <immintrin.h>

#include <cmath>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"

namespace lwz {
namespace {

// lse as float hi + lo: x - lse in float with one extra rounding, no float64 per element
void splitLse(double lse, float* hi, float* lo) {
  *hi = static_cast<float>(lse);
  *lo = std::isfinite(lse) ? static_cast<float>(lse - *hi) : 0.0f;
}

// Each row scanned, then written; the write pass prefetches the next row's lines (rowpass_impl.h prefetchNextRow), so
// reads stay in flight while a row is written. Where the ISA has rp.lseShift (AVX-512, AVX2), log-softmax writes
// row r - 1 inside row r's scan instead (block by block, or vector by vector: lseShiftPrev), so the stores leave while
// the exponentials run: on Zen 4 1.05-2.0x in eight paired runs against the scan-then-write order, once the scan had
// lost its separate max look (benchmarks/README.md, branch membound4; before that it measured 0.71-0.78x). On AVX2 the
// same measured 0.79-1.26x on Zen 4 (forced); on Zen 3, where AVX2 is the native path and the scan cost ~7 ns per 16
// values in cache (before membound6's cheaper sum terms), a median 1.07x over 11 paired runs (0.86-1.41x, 9 at or above
// 0.99; branch membound5), so AVX2 has it too; the generic path has no lseShift. Scanning groups of 8 rows before
// writing them measured 0.89x.
void softmaxRows(const RowPasses& rp, const float* x, float* out, long r0, long r1, long v, bool log, bool stream) {
  float hi, lo;
  if (log && rp.lseShift && r1 > r0) {
    splitLse(rp.lse(x + r0 * v, v), &hi, &lo);
    for (long r = r0 + 1; r < r1; r++) splitLse(rp.lseShift(x + r * v, v, x + (r - 1) * v, out + (r - 1) * v, hi, lo, stream), &hi, &lo);
    rp.shift(x + (r1 - 1) * v, out + (r1 - 1) * v, v, hi, lo, stream);
  } else {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * v;
      float* o = out + r * v;
      splitLse(rp.lse(xr, v), &hi, &lo);
      if (log)
        rp.shift(xr, o, v, hi, lo, stream);
      else
        rp.exp(xr, o, v, hi, lo, 1.0f, stream);
    }
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
  // reads x and writes out once: 8 n v bytes; streamed only when out is a separate buffer and the streaming threshold
  // was set (common.h streamArithmeticOutput: plain stores measured faster for this pass)
  const bool stream = out != x && streamArithmeticOutput(8.0 * n * v);
  // chunks of at least rowGrainFor's 32k values, and at most 8 per thread (streamGrain): each chunk's first row is
  // scanned and its last written with nothing beside it (softmaxRows), 1 row in 8 at 8 rows per chunk (2048 x 4096:
  // 1.02-1.05x)
  const long grain = streamGrain(n, rowGrainFor(v));
  parallelRange(n, grain, [&](long lo, long hi) { softmaxRows(rp, x, out, lo, hi, v, log, stream); });
  return undefined(env);
}

}  // namespace lwz
