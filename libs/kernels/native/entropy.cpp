// Entropy of softmax rows: H[n] = -sum_v p log p with log p = logits - lse, summed in float64.
// logits (N, V), entropy (N,).
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"

namespace lwz {
namespace {

LWZ_CLONES void entropyRows(const float* logits, float* entropy, long r0, long r1, long v) {
  for (long r = r0; r < r1; r++) {
    const float* x = logits + r * v;
    const double lse = rowLse(x, v);
    const double h = sumF64(v, [&](long j) {
      const float lp = static_cast<float>(x[j] - lse);
      return lp > -INFINITY ? -static_cast<double>(fastExp(lp)) * lp : 0.0;
    });
    entropy[r] = static_cast<float>(h);
  }
}

}  // namespace

// (logits, entropy, n, v)
napi_value entropyForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "entropyForward");
  const float* logits = in.f32(0);
  float* entropy = in.f32(1);
  const long n = in.integer(2), v = in.integer(3);
  if (!in.ok) return nullptr;
  parallelRange(n, rowGrainFor(v), [&](long lo, long hi) { entropyRows(logits, entropy, lo, hi, v); });
  return undefined(env);
}

}  // namespace lwz
