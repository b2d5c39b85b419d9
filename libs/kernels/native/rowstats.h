// Row statistics shared by the softmax-family kernels (softmax.cpp, logprobs.cpp, entropy.cpp): the
// max-shifted log-sum-exp of one row with float exponentials summed in float64.
#pragma once
#include <cmath>

#include "common.h"
#include "vecmath.h"

namespace lwz {

/** log(sum_j exp(x[j])) for j < v; -inf for an empty row or all -inf, +inf if any x is +inf. */
[[gnu::always_inline]] inline double rowLse(const float* x, long v) {
  const float mx = maxF32(x, v, -INFINITY);
  if (mx == -INFINITY || mx == INFINITY) return mx;
  const double sum = sumF64(v, [&](long j) { return static_cast<double>(fastExp(x[j] - mx)); });
  return mx + std::log(sum);
}

/** Rows per chunk so one chunk holds about 32k values. */
inline long rowGrainFor(long v) { return maxL(1, (1 << 15) / maxL(v, 1)); }

}  // namespace lwz
