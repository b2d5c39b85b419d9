// Row statistics shared by the softmax-family kernels (softmax.cpp, logprobs.cpp, entropy.cpp): the
// max-shifted log-sum-exp of one row, float exponentials summed in float over blocks of 256 and the block
// sums in float64 (a float64 sum of every term cost more than the exponentials on 256-bit-wide cores).
#pragma once
#include <cmath>

#include "common.h"
#include "vecmath.h"

namespace lwz {

/** log(sum_j exp(x[j])) for j < v; -inf for an empty row or all -inf, +inf if any x is +inf. */
[[gnu::always_inline]] inline double rowLse(const float* x, long v) {
  const float mx = maxF32(x, v, -INFINITY);
  if (mx == -INFINITY || mx == INFINITY) return mx;
  const double sum = sumBlocks(v, [&](long j) { return fastExp(x[j] - mx); });
  return mx + std::log(sum);
}

/** Rows per chunk so one chunk holds about 32k values. */
inline long rowGrainFor(long v) { return maxL(1, (1 << 15) / maxL(v, 1)); }

}  // namespace lwz
