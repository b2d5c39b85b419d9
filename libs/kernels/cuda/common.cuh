// Shared by every CUDA source of the backend: storage-type load/store (f32 or bf16, math always f32), warp and
// block reductions with a fixed order (so results are deterministic run to run), launch-size helpers, and the
// runtime hooks (stream, error reporting with the kernel's name, scratch memory) implemented in runtime.cu.
// Not a kernel file: nothing here launches anything.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "lwz_cuda.h"

namespace lwz {

using bf16 = __nv_bfloat16;

// ---- runtime hooks (runtime.cu) ----
cudaStream_t stream();
/** Records "<kernel>: <message>" as the last error and returns -1. */
int fail(const char* kernel, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/** After a launch: reports a launch error (and, with sync_check, an execution error) naming the kernel. */
int checkLaunch(const char* kernel);
/** Reports a failed CUDA runtime call naming the kernel; 0 when err == cudaSuccess. */
int checkCuda(cudaError_t err, const char* kernel, const char* what);
/** -1 with a message unless lwz_init succeeded. */
int requireInit(const char* kernel);
int smCount();
/** The device's opt-in shared memory per block (bytes). */
int maxSmemOptin();
int* deviceErrorWord();
/** Current value of an option set by lwz_set_option (or its LWZ_CUDA_<NAME> environment default). */
const char* option(const char* name);

/** Scratch device memory from the caching allocator, returned on scope exit (stream-ordered reuse). */
class Scratch {
 public:
  explicit Scratch(size_t bytes) : ptr_(bytes ? lwz_alloc(bytes) : nullptr), bytes_(bytes) {}
  ~Scratch() {
    if (ptr_) lwz_free(ptr_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  bool ok() const { return bytes_ == 0 || ptr_ != nullptr; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_;
  size_t bytes_;
};

/** Calls f(float{}) or f(bf16{}) for the storage type `dt`; the lambda does `using T = decltype(tag)`. */
template <typename F>
int withDtype(int dt, const char* kernel, F&& f) {
  if (dt == LWZ_F32) return f(float{});
  if (dt == LWZ_BF16) return f(bf16{});
  return fail(kernel, "unknown storage dtype %d (0 = f32, 1 = bf16)", dt);
}

inline unsigned gridFor(int64_t n, int threads, int64_t cap = 0) {
  int64_t blocks = (n + threads - 1) / threads;
  if (cap <= 0) cap = int64_t(smCount()) * 32;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- storage types ----
__device__ __forceinline__ float ld(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const bf16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void st(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(bf16* p, int64_t i, float v) { p[i] = __float2bfloat16(v); }

// ---- reductions (blockDim.x a multiple of 32, at most 1024) ----
template <typename T>
__device__ __forceinline__ T warpSum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/** Sum over the block, the same value returned to every thread. `shared` holds >= 32 values of T. */
template <typename T>
__device__ T blockSum(T v, T* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warpSum(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = lane < warps ? shared[lane] : T(0);
  return warpSum(total);
}

__device__ __forceinline__ float blockMax(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warpMax(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float m = lane < warps ? shared[lane] : -INFINITY;
  return warpMax(m);
}

/** Online log-sum-exp state: running max m and sum s of exp(x - m). Merging is order-fixed in the reductions. */
struct MaxSum {
  float m, s;
};

// A side whose max is -inf has a sum of 0, or NaN when it saw a NaN: times 0 keeps that NaN (the ref's sum is NaN).
__device__ __forceinline__ MaxSum mergeMaxSum(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return {m, a.s + b.s};
  const float sa = a.m == -INFINITY ? a.s * 0.f : a.s * expf(a.m - m);
  const float sb = b.m == -INFINITY ? b.s * 0.f : b.s * expf(b.m - m);
  return {m, sa + sb};
}

__device__ __forceinline__ MaxSum warpMaxSum(MaxSum v) {
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = mergeMaxSum(v, other);
  }
  return v;
}

/** Block-wide online max/sum; every thread gets the result. `shared` holds >= 64 floats. */
__device__ __forceinline__ MaxSum blockMaxSum(MaxSum v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warpMaxSum(v);
  __syncthreads();
  if (lane == 0) {
    shared[warp] = v.m;
    shared[32 + warp] = v.s;
  }
  __syncthreads();
  MaxSum w = lane < warps ? MaxSum{shared[lane], shared[32 + lane]} : MaxSum{-INFINITY, 0.f};
  return warpMaxSum(w);
}

/** log(sum exp) from a merged state, with the ref's convention: an infinite max is returned as is. */
// a row of -inf and NaN only: m stays -inf and s is NaN; the ref says NaN (a +inf max stays +inf)
__device__ __forceinline__ float lseOf(MaxSum v) { return isinf(v.m) ? (v.m < 0 && isnan(v.s) ? NAN : v.m) : v.m + logf(v.s); }

}  // namespace lwz
