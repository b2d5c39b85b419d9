// Elementwise kernels on flat buffers: add and mul with suffix broadcast (b[i % nb]), scale/axpy
// (out = alpha a + beta out; beta = 0 never reads out), and sumRows (the backward of a broadcast add,
// float64 column sums). Vectorised loops, threads for large sizes.
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 16;

enum class Bin { add, mul };

template <Bin op>
LWZ_CLONES void binaryRange(const float* a, const float* b, float* out, long lo, long hi, long nb) {
  // walk [lo, hi) in runs that share one pass over b
  long i = lo;
  while (i < hi) {
    const long off = i % nb, len = minL(hi - i, nb - off);
    const float* bs = b + off;
    const float* as = a + i;
    float* os = out + i;
    for (long x = 0; x < len; x++) os[x] = op == Bin::add ? as[x] + bs[x] : as[x] * bs[x];
    i += len;
  }
}

template <Bin op>
napi_value binary(napi_env env, napi_callback_info info, const char* name) {
  Args in(env, info, name);
  const float* a = in.f32(0);
  const float* b = in.f32(1);
  float* out = in.f32(2);
  const long n = in.integer(3), nb = in.integer(4);
  if (!in.ok || n == 0) return in.ok ? undefined(env) : nullptr;
  if (nb <= 0 || n % nb) {
    in.error("elementwise: b's size must divide a's");
    return nullptr;
  }
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { binaryRange<op>(a, b, out, lo, hi, nb); });
  return undefined(env);
}

LWZ_CLONES void scaleRange(const float* a, float* out, long lo, long hi, float alpha, float beta) {
  if (beta == 0.0f)
    for (long i = lo; i < hi; i++) out[i] = alpha * a[i];
  else
    for (long i = lo; i < hi; i++) out[i] = alpha * a[i] + beta * out[i];
}

LWZ_CLONES void sumColumns(const float* a, float* out, long n, long c, long j0, long j1, bool accumulate) {
  double acc[256];
  const long w = j1 - j0;
  for (long j = 0; j < w; j++) acc[j] = 0.0;
  for (long r = 0; r < n; r++) {
    const float* row = a + r * c + j0;
    for (long j = 0; j < w; j++) acc[j] += row[j];
  }
  for (long j = 0; j < w; j++) out[j0 + j] = static_cast<float>(accumulate ? out[j0 + j] + acc[j] : acc[j]);
}

}  // namespace

// (a, b, out, n, nb)
napi_value addForward(napi_env env, napi_callback_info info) { return binary<Bin::add>(env, info, "addForward"); }
// (a, b, out, n, nb)
napi_value mulForward(napi_env env, napi_callback_info info) { return binary<Bin::mul>(env, info, "mulForward"); }

// (a, out, n, alpha, beta)
napi_value scaleForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "scaleForward");
  const float* a = in.f32(0);
  float* out = in.f32(1);
  const long n = in.integer(2);
  const float alpha = static_cast<float>(in.num(3)), beta = static_cast<float>(in.num(4));
  if (!in.ok) return nullptr;
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { scaleRange(a, out, lo, hi, alpha, beta); });
  return undefined(env);
}

// (a, out, n, c, accumulate): out (C,) (+)= column sums of a (N, C)
napi_value sumRowsForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "sumRowsForward");
  const float* a = in.f32(0);
  float* out = in.f32(1);
  const long n = in.integer(2), c = in.integer(3);
  const bool accumulate = in.flag(4);
  if (!in.ok) return nullptr;
  const long blocks = ceilDiv(c, 256);
  parallelFor(
      blocks, [&](long blk, int) { sumColumns(a, out, n, c, blk * 256, minL(c, (blk + 1) * 256), accumulate); },
      static_cast<double>(n) * c > 2.0 * kGrain);
  return undefined(env);
}

}  // namespace lwz
