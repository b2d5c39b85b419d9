// Chosen-token log-probs without a softmax in memory (ref/token-logprobs.ts, ref/entropy.ts), one block per
// row of logits (N, V): logprobs[n] = logits[n, t] - lse[n] (t < 0: ignored row, logprob 0); the backward
// dLogits = dLogprobs (onehot(t) - softmax) (may alias logits); entropy = -sum p log p. A target >= V sets
// LWZ_ERR_TARGET_ID and yields NaN (forward) / a zero gradient row (backward).
#include <cmath>

#include "rows.cuh"

namespace lwz {
namespace {

template <typename T>
__global__ void forwardKernel(const T* logits, const int32_t* targets, float* logprobs, float* lse, int64_t v, int* errors) {
  __shared__ float shared[64];
  const int64_t row = blockIdx.x;
  const T* xr = logits + row * v;
  const float l = rowLse(xr, v, shared);
  if (threadIdx.x == 0) {
    const int32_t t = targets[row];
    lse[row] = l;
    if (t >= v) {
      atomicOr(errors, LWZ_ERR_TARGET_ID);
      logprobs[row] = NAN;
    } else {
      logprobs[row] = t < 0 ? 0.f : ld(xr, t) - l;
    }
  }
}

template <typename T>
__global__ void backwardKernel(const float* dLogprobs, const T* logits, const int32_t* targets, const float* lse, T* dLogits, int64_t v,
                               int* errors) {
  const int64_t row = blockIdx.x;
  const int32_t t = targets[row];
  if (t >= v && threadIdx.x == 0) atomicOr(errors, LWZ_ERR_TARGET_ID);
  const float d = t < 0 || t >= v ? 0.f : dLogprobs[row];
  const float l = lse[row];
  const T* xr = logits + row * v;
  T* dr = dLogits + row * v;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
    st(dr, j, d == 0.f ? 0.f : d * ((j == t ? 1.f : 0.f) - expf(ld(xr, j) - l)));
  }
}

template <typename T>
__global__ void entropyKernel(const T* logits, float* entropy, int64_t v) {
  __shared__ float shared[64];
  const T* xr = logits + blockIdx.x * v;
  const float l = rowLse(xr, v, shared);
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
    const float x = ld(xr, j), lp = x - l;
    if (lp > -INFINITY || isnan(x)) acc += expf(lp) * lp;  // a NaN logit makes the entropy NaN, as in the ref
  }
  acc = blockSum(acc, shared);
  if (threadIdx.x == 0) entropy[blockIdx.x] = -acc;
}

int rowsCheck(const char* name, int64_t n) {
  if (requireInit(name)) return -1;
  if (n > 2147483647) return fail(name, "too many rows (%lld)", (long long)n);
  return 0;
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_token_logprobs_forward(const void* logits, const int32_t* targets, float* logprobs, float* lse, int dt, int64_t n, int64_t v) {
  const char* name = "tokenLogprobsForward";
  if (rowsCheck(name, n)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    forwardKernel<T><<<unsigned(n), ROW_THREADS, 0, stream()>>>(static_cast<const T*>(logits), targets, logprobs, lse, v, deviceErrorWord());
    return checkLaunch(name);
  });
}

int lwz_token_logprobs_backward(const float* d_logprobs, const void* logits, const int32_t* targets, const float* lse, void* d_logits,
                                int dt, int64_t n, int64_t v) {
  const char* name = "tokenLogprobsBackward";
  if (rowsCheck(name, n)) return -1;
  if (n == 0 || v == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    backwardKernel<T><<<unsigned(n), ROW_THREADS, 0, stream()>>>(d_logprobs, static_cast<const T*>(logits), targets, lse,
                                                                 static_cast<T*>(d_logits), v, deviceErrorWord());
    return checkLaunch(name);
  });
}

int lwz_entropy(const void* logits, float* entropy, int dt, int64_t n, int64_t v) {
  const char* name = "entropyForward";
  if (rowsCheck(name, n)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    entropyKernel<T><<<unsigned(n), ROW_THREADS, 0, stream()>>>(static_cast<const T*>(logits), entropy, v);
    return checkLaunch(name);
  });
}

}  // extern "C"
