// AdamW step on flat buffers, in place (decoupled weight decay, bias-corrected moments): the moments and the update
// in float64, the denominator sqrt(v / c2) + eps and its reciprocal in float32. Float64 square roots and divisions
// limited the step to 0.38x of the copy bandwidth on an Intel Xeon (AVX-512: about 9 cycles an element for three
// divisions and a root); in float32 the kernel is memory-bound there too. The float32 root and reciprocal are
// correctly rounded, so the update differs from ref's float64 one by about 1e-7 relative, far below the float32
// rounding of the weight it is added to. Also the float64 sum of squares used for global-norm clipping (chunk
// partials added in a fixed order, so the result does not depend on the thread count).
#include <cmath>
#include <vector>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 15;

struct Hyper {
  double lr, beta1, beta2, wd;
  double invC1;           // 1 / (1 - beta1^step)
  float invSqrtC2, eps;   // 1 / sqrt(1 - beta2^step), eps
};

LWZ_CLONES void adamwRange(float* param, const float* grad, float* m, float* v, long lo, long hi, const Hyper& hp) {
  for (long i = lo; i < hi; i++) {
    const double g = grad[i];
    const double mi = hp.beta1 * m[i] + (1.0 - hp.beta1) * g;
    const double vi = hp.beta2 * v[i] + (1.0 - hp.beta2) * g * g;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    const float denom = std::sqrt(static_cast<float>(vi)) * hp.invSqrtC2 + hp.eps;
    const float r = 1.0f / denom;
    const double p = param[i];
    param[i] = static_cast<float>(p - hp.lr * (mi * hp.invC1 * r + hp.wd * p));
  }
}

LWZ_CLONES double squares(const float* x, long lo, long hi) {
  const float* s = x + lo;
  return sumF64(hi - lo, [&](long i) { return static_cast<double>(s[i]) * s[i]; });
}

}  // namespace

// (param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step)
napi_value adamwStep(napi_env env, napi_callback_info info) {
  Args in(env, info, "adamwStep");
  float* param = in.f32(0);
  const float* grad = in.f32(1);
  float* m = in.f32(2);
  float* v = in.f32(3);
  const long n = in.integer(4);
  const double lr = in.num(5), beta1 = in.num(6), beta2 = in.num(7), eps = in.num(8), wd = in.num(9), step = in.num(10);
  if (!in.ok) return nullptr;
  if (!(step >= 1)) {
    in.error("adamwStep: step must be >= 1 (bias correction)");
    return nullptr;
  }
  const Hyper hp{lr, beta1, beta2, wd, 1.0 / (1.0 - std::pow(beta1, step)), static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, step))),
                 static_cast<float>(eps)};
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { adamwRange(param, grad, m, v, lo, hi, hp); });
  return undefined(env);
}

// (x, n) -> sum of x^2
napi_value sumSquares(napi_env env, napi_callback_info info) {
  Args in(env, info, "sumSquares");
  const float* x = in.f32(0);
  const long n = in.integer(1);
  if (!in.ok) return nullptr;
  std::vector<double> parts(static_cast<size_t>(maxL(1, ceilDiv(n, kGrain))), 0.0);
  parallelFor(
      ceilDiv(n, kGrain), [&](long c, int) { parts[c] = squares(x, c * kGrain, minL(n, (c + 1) * kGrain)); },
      n > 2 * kGrain);
  double total = 0.0;
  for (double p : parts) total += p;
  return number(env, total);
}

}  // namespace lwz
