// AdamW on flat buffers, in place: f32 master weights and moments (the gradient may be bf16), decoupled weight
// decay, bias-corrected moments (ref/adamw.ts): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr (mhat / (sqrt(vhat) + eps) + wd p). Bias corrections are computed once on the host in float64.
#include <cmath>

#include "common.cuh"

namespace lwz {
namespace {

template <typename TG>
__global__ void adamwKernel(float* param, const TG* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
                            float wd, float c1, float c2) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = ld(grad, i);
    const float mi = beta1 * m[i] + (1.f - beta1) * g;
    const float vi = beta2 * v[i] + (1.f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float p = param[i];
    param[i] = p - lr * (mi / c1 / (sqrtf(vi / c2) + eps) + wd * p);
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" int lwz_adamw(float* param, const void* grad, int gdt, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                         float eps, float weight_decay, int step) {
  const char* name = "adamwStep";
  if (requireInit(name)) return -1;
  if (step < 1) return fail(name, "step must be >= 1 (bias correction), got %d", step);
  if (n == 0) return 0;
  const float c1 = float(1.0 - std::pow(double(beta1), step)), c2 = float(1.0 - std::pow(double(beta2), step));
  return withDtype(gdt, name, [&](auto tag) {
    using T = decltype(tag);
    adamwKernel<T><<<gridFor(n, 256), 256, 0, stream()>>>(param, static_cast<const T*>(grad), m, v, n, lr, beta1, beta2, eps,
                                                         weight_decay, c1, c2);
    return checkLaunch(name);
  });
}
