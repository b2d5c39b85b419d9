// RMSNorm (ref/rmsnorm.ts), one warp per row: y = x rstd w, rstd = 1 / sqrt(mean(x^2) + eps) saved (N,) f32.
// The fused variant first forms h = x + residual (written; the next residual stream) and normalises h.
// Backward: dx = rstd dy w - rstd^3 / C x sum(dy w x) (overwritten); dw (C,) += column sums of dy x rstd,
// computed first (colsum.cuh, deterministic) so dx may alias dy.
#include "colsum.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 256, ROWS_PER_BLOCK = THREADS / 32;

template <typename T, bool RESIDUAL>
__global__ void forwardKernel(const T* x, const T* residual, T* h, const T* w, T* y, float* rstd, int64_t n, int64_t c, float eps) {
  const int64_t row = blockIdx.x * int64_t(ROWS_PER_BLOCK) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= n) return;
  const int64_t o = row * c;
  const T* src = RESIDUAL ? h : x;
  float ss = 0.f;
  for (int64_t j = lane; j < c; j += 32) {
    float v = ld(x, o + j);
    if (RESIDUAL) {
      st(h, o + j, v + ld(residual, o + j));
      v = ld(h, o + j);  // normalise the stored (possibly bf16-rounded) sum, as the backward will see it
    }
    ss += v * v;
  }
  ss = warpSum(ss);
  const float rs = 1.f / sqrtf(ss / float(c) + eps);
  for (int64_t j = lane; j < c; j += 32) st(y, o + j, ld(src, o + j) * rs * ld(w, j));
  if (lane == 0) rstd[row] = rs;
}

template <typename T>
__global__ void backwardKernel(const T* dy, const T* x, const T* w, const float* rstd, T* dx, int64_t n, int64_t c) {
  const int64_t row = blockIdx.x * int64_t(ROWS_PER_BLOCK) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= n) return;
  const int64_t o = row * c;
  const float rs = rstd[row];
  float dot = 0.f;
  for (int64_t j = lane; j < c; j += 32) dot += ld(dy, o + j) * ld(w, j) * ld(x, o + j);
  dot = warpSum(dot);
  const float k = rs * rs * rs * dot / float(c);
  for (int64_t j = lane; j < c; j += 32) st(dx, o + j, rs * ld(dy, o + j) * ld(w, j) - k * ld(x, o + j));
}

template <typename T>
struct WeightGrad {
  const T* dy;
  const T* x;
  const float* rstd;
  int64_t c;
  __device__ float operator()(int64_t r, int64_t j) const { return ld(dy, r * c + j) * ld(x, r * c + j) * rstd[r]; }
};

template <bool RESIDUAL>
int forward(const char* name, const void* x, const void* residual, void* h, const void* w, void* y, float* rstd, int dt, int64_t n,
            int64_t c, float eps) {
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    forwardKernel<T, RESIDUAL><<<unsigned(ceilDiv(n, ROWS_PER_BLOCK)), THREADS, 0, stream()>>>(
        static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(h), static_cast<const T*>(w), static_cast<T*>(y), rstd,
        n, c, eps);
    return checkLaunch(name);
  });
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_rmsnorm_forward(const void* x, const void* w, void* y, float* rstd, int dt, int64_t n, int64_t c, float eps) {
  return forward<false>("rmsnormForward", x, nullptr, nullptr, w, y, rstd, dt, n, c, eps);
}

int lwz_add_rmsnorm_forward(const void* x, const void* residual, void* h, const void* w, void* y, float* rstd, int dt, int64_t n,
                            int64_t c, float eps) {
  return forward<true>("addRmsnormForward", x, residual, h, w, y, rstd, dt, n, c, eps);
}

int lwz_rmsnorm_backward(const void* dy, const void* x, const void* w, const float* rstd, void* dx, float* dw, int dt, int64_t n,
                         int64_t c) {
  const char* name = "rmsnormBackward";
  if (requireInit(name)) return -1;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    const T* pdy = static_cast<const T*>(dy);
    const T* px = static_cast<const T*>(x);
    if (colsum(name, WeightGrad<T>{pdy, px, rstd, c}, dw, n, c, true)) return -1;
    if (n == 0) return 0;
    backwardKernel<T><<<unsigned(ceilDiv(n, ROWS_PER_BLOCK)), THREADS, 0, stream()>>>(pdy, px, static_cast<const T*>(w), rstd,
                                                                                      static_cast<T*>(dx), n, c);
    return checkLaunch(name);
  });
}

}  // extern "C"
