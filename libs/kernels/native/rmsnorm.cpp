// RMSNorm forward (y = x rstd w, rstd = 1/sqrt(mean(x^2) + eps), saved per row) and backward
// (dx = rstd dy w - rstd^3/C x sum(dy w x), overwritten; dw += sum over rows of dy x rstd). Row statistics and
// dw column sums in float64. x, y, dy, dx (N, C); w, dw (C,); rstd (N,).
#include <cmath>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

LWZ_CLONES void forwardRows(const float* x, const float* w, float* y, float* rstd, long r0, long r1, long c, double eps) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * c;
    double ss = 0.0;
    for (long j = 0; j < c; j++) ss += static_cast<double>(xr[j]) * xr[j];
    const double rs = 1.0 / std::sqrt(ss / c + eps);
    const float rsf = static_cast<float>(rs);
    float* yr = y + r * c;
    for (long j = 0; j < c; j++) yr[j] = xr[j] * rsf * w[j];
    rstd[r] = rsf;
  }
}

LWZ_CLONES void backwardRows(const float* dy, const float* x, const float* w, const float* rstd, float* dx, long r0,
                             long r1, long c) {
  for (long r = r0; r < r1; r++) {
    const float* dyr = dy + r * c;
    const float* xr = x + r * c;
    double dot = 0.0;
    for (long j = 0; j < c; j++) dot += static_cast<double>(dyr[j]) * w[j] * xr[j];
    const double rs = rstd[r];
    const float k = static_cast<float>(rs * rs * rs * dot / c), rsf = rstd[r];
    float* dxr = dx + r * c;
    for (long j = 0; j < c; j++) dxr[j] = rsf * dyr[j] * w[j] - k * xr[j];
  }
}

LWZ_CLONES void dwColumns(const float* dy, const float* x, const float* rstd, float* dw, long n, long c, long j0, long j1) {
  double acc[256];
  const long wd = j1 - j0;
  for (long j = 0; j < wd; j++) acc[j] = 0.0;
  for (long r = 0; r < n; r++) {
    const float* dyr = dy + r * c + j0;
    const float* xr = x + r * c + j0;
    const double rs = rstd[r];
    for (long j = 0; j < wd; j++) acc[j] += static_cast<double>(dyr[j]) * xr[j] * rs;
  }
  for (long j = 0; j < wd; j++) dw[j0 + j] = static_cast<float>(dw[j0 + j] + acc[j]);
}

long rowGrain(long c) { return maxL(1, (1 << 15) / maxL(c, 1)); }

}  // namespace

// (x, w, y, rstd, n, c, eps)
napi_value rmsnormForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "rmsnormForward");
  const float* x = in.f32(0);
  const float* w = in.f32(1);
  float* y = in.f32(2);
  float* rstd = in.f32(3);
  const long n = in.integer(4), c = in.integer(5);
  const double eps = in.num(6);
  if (!in.ok) return nullptr;
  parallelRange(n, rowGrain(c), [&](long lo, long hi) { forwardRows(x, w, y, rstd, lo, hi, c, eps); });
  return undefined(env);
}

// (dy, x, w, rstd, dx, dw, n, c)
napi_value rmsnormBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "rmsnormBackward");
  const float* dy = in.f32(0);
  const float* x = in.f32(1);
  const float* w = in.f32(2);
  const float* rstd = in.f32(3);
  float* dx = in.f32(4);
  float* dw = in.f32(5);
  const long n = in.integer(6), c = in.integer(7);
  if (!in.ok) return nullptr;
  parallelRange(n, rowGrain(c), [&](long lo, long hi) { backwardRows(dy, x, w, rstd, dx, lo, hi, c); });
  parallelFor(
      ceilDiv(c, 256), [&](long blk, int) { dwColumns(dy, x, rstd, dw, n, c, blk * 256, minL(c, (blk + 1) * 256)); },
      static_cast<double>(n) * c > 1.0e5);
  return undefined(env);
}

}  // namespace lwz
