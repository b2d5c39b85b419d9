// Row-wise softmax / log-softmax of x (N, V) into out (N, V) (ref/softmax.ts), one block per row, max-shifted;
// out may alias x (the lse pass finishes reading before any write).
#include "rows.cuh"

namespace lwz {
namespace {

template <typename T>
__global__ void softmaxKernel(const T* x, T* out, int64_t v, bool log) {
  __shared__ float shared[64];
  const T* xr = x + blockIdx.x * v;
  T* outr = out + blockIdx.x * v;
  const float lse = rowLse(xr, v, shared);
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
    const float d = ld(xr, j) - lse;
    st(outr, j, log ? d : expf(d));
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" int lwz_softmax(const void* x, void* out, int dt, int64_t n, int64_t v, int log) {
  const char* name = "softmaxForward";
  if (requireInit(name)) return -1;
  if (n == 0 || v == 0) return 0;
  if (n > 2147483647) return fail(name, "too many rows (%lld)", (long long)n);
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    softmaxKernel<T><<<unsigned(n), ROW_THREADS, 0, stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), v, log != 0);
    return checkLaunch(name);
  });
}
