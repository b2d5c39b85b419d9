// Row-wise log-sum-exp for the softmax-family kernels (one block per row): one online pass keeps a running max
// and sum per thread (one exp per value), then blockMaxSum merges them in a fixed order. lse follows the ref's
// convention (an infinite max is returned as is; an all -inf row gives -inf).
#pragma once
#include "common.cuh"

namespace lwz {

constexpr int ROW_THREADS = 256;

// A NaN is never the max (as in the ref); it makes the sum NaN, and that must survive a later larger value: while
// st.m is -inf, st.s * expf(-inf) is 0 for a sum of 0 and NaN for a NaN sum, so no special case drops it.
__device__ __forceinline__ void pushMaxSum(MaxSum& st, float x) {
  if (x > st.m) {
    st.s = st.s * expf(st.m - x) + 1.f;
    st.m = x;
  } else if (x != -INFINITY) {
    st.s += expf(x - st.m);
  }
}

/** log-sum-exp of row (v,), the same value in every thread of the block; `shared` holds >= 64 floats. */
template <typename T>
__device__ float rowLse(const T* row, int64_t v, float* shared) {
  MaxSum st{-INFINITY, 0.f};
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) pushMaxSum(st, ld(row, j));
  return lseOf(blockMaxSum(st, shared));
}

}  // namespace lwz
