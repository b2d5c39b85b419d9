// Elementwise kernels: add and mul with suffix broadcast (b[i % nb]: a bias (C,) against (N, C)), scale/axpy
// (out = alpha a + beta out; beta = 0 never reads out), copy with dtype conversion, fill. Grid-stride loops,
// f32 math; in place (out == a) is allowed everywhere since each index is read before it is written.
#include "common.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 256;

template <typename T, bool MUL, bool BCAST>
__global__ void binaryKernel(const T* a, const T* b, T* out, int64_t n, int64_t nb) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float x = ld(a, i), y = ld(b, BCAST ? i % nb : i);
    st(out, i, MUL ? x * y : x + y);
  }
}

template <typename T>
__global__ void scaleKernel(const T* a, T* out, int64_t n, float alpha, float beta) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = alpha * ld(a, i);
    st(out, i, beta == 0.f ? v : v + beta * ld(out, i));
  }
}

template <typename TS, typename TD>
__global__ void copyKernel(const TS* src, TD* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) st(dst, i, ld(src, i));
}

template <typename T>
__global__ void fillKernel(T* out, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) st(out, i, value);
}

__global__ void fillI32Kernel(int32_t* out, int64_t n, int32_t value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) out[i] = value;
}

template <bool MUL>
int binary(const char* name, const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) {
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (nb <= 0 || n % nb != 0) return fail(name, "b has %lld values, which does not divide a's %lld", (long long)nb, (long long)n);
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    if (nb == n) {
      binaryKernel<T, MUL, false><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(pa, pb, static_cast<T*>(out), n, nb);
    } else {
      binaryKernel<T, MUL, true><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(pa, pb, static_cast<T*>(out), n, nb);
    }
    return checkLaunch(name);
  });
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_add(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) { return binary<false>("addForward", a, b, out, dt, n, nb); }

int lwz_mul(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) { return binary<true>("mulForward", a, b, out, dt, n, nb); }

int lwz_scale(const void* a, void* out, int dt, int64_t n, float alpha, float beta) {
  const char* name = "scaleForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    scaleKernel<T><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<const T*>(a), static_cast<T*>(out), n, alpha, beta);
    return checkLaunch(name);
  });
}

int lwz_copy(const void* src, int sdt, void* dst, int ddt, int64_t n) {
  const char* name = "copyForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (sdt == ddt) {
    if (sdt != LWZ_F32 && sdt != LWZ_BF16 && sdt != LWZ_I32) return fail(name, "unknown dtype %d", sdt);
    const size_t bytes = size_t(n) * (sdt == LWZ_BF16 ? 2 : 4);
    return checkCuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), name, "cudaMemcpyAsync");
  }
  return withDtype(sdt, name, [&](auto stag) {
    using TS = decltype(stag);
    return withDtype(ddt, name, [&](auto dtag) {
      using TD = decltype(dtag);
      copyKernel<TS, TD><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<const TS*>(src), static_cast<TD*>(dst), n);
      return checkLaunch(name);
    });
  });
}

int lwz_fill(void* out, int dt, int64_t n, double value) {
  const char* name = "fillForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (dt == LWZ_I32) {
    if (value != double(int32_t(value))) return fail(name, "an i32 fill needs an integer value, got %g", value);
    fillI32Kernel<<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<int32_t*>(out), n, int32_t(value));
    return checkLaunch(name);
  }
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    fillKernel<T><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<T*>(out), n, float(value));
    return checkLaunch(name);
  });
}

}  // extern "C"
