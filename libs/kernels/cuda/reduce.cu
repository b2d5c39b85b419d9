// Whole-buffer reductions that return a host number (they synchronise): the float64 sum of squares behind
// global-norm clipping, and the count of NaN/Inf values (the overflow check of bf16 training). Two passes with a
// fixed order (per-block partials, then one block), so the result is the same run to run.
#include "common.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 256, MAX_BLOCKS = 1024;

template <typename T, bool COUNT>
__global__ void partialKernel(const T* x, int64_t n, double* partial) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = ld(x, i);
    if (COUNT) {
      acc += isfinite(v) ? 0.0 : 1.0;
    } else {
      acc += double(v) * double(v);
    }
  }
  acc = blockSum(acc, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void finishKernel(const double* partial, int blocks, double* out) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) acc += partial[i];
  acc = blockSum(acc, shared);
  if (threadIdx.x == 0) *out = acc;
}

template <bool COUNT>
int reduceToHost(const char* name, const void* x, int dt, int64_t n, double* result) {
  if (requireInit(name)) return -1;
  *result = 0.0;
  if (n == 0) return 0;
  const unsigned blocks = gridFor(n, THREADS, MAX_BLOCKS);
  Scratch partial((blocks + 1) * sizeof(double));
  if (!partial.ok()) return -1;
  double* p = partial.as<double>();
  const int r = withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    partialKernel<T, COUNT><<<blocks, THREADS, 0, stream()>>>(static_cast<const T*>(x), n, p);
    return checkLaunch(name);
  });
  if (r) return r;
  finishKernel<<<1, 1024, 0, stream()>>>(p, int(blocks), p + blocks);
  if (checkLaunch(name)) return -1;
  return lwz_download(result, p + blocks, sizeof(double));
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_sum_squares(const void* x, int dt, int64_t n, double* result) { return reduceToHost<false>("sumSquares", x, dt, n, result); }

int lwz_count_nonfinite(const void* x, int dt, int64_t n, int64_t* result) {
  double count = 0.0;
  const int r = reduceToHost<true>("countNonFinite", x, dt, n, &count);
  *result = int64_t(count);
  return r;
}

}  // extern "C"
