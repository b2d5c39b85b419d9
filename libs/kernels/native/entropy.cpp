// Entropy of softmax rows: H[n] = -sum_v p log p, one pass per row (rowstats.h: H = log S0 - S1 / S0 over the
// online max), lanes in float, block sums in float64.
// logits (N, V), entropy (N,).
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"

namespace lwz {
namespace {

void entropyRows(const RowPasses& rp, const float* logits, float* entropy, long r0, long r1, long v) {
  for (long r = r0; r < r1; r++) entropy[r] = static_cast<float>(rp.entropy(logits + r * v, v));
}

}  // namespace

// (logits, entropy, n, v)
napi_value entropyForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "entropyForward");
  const float* logits = in.f32(0);
  float* entropy = in.f32(1);
  const long n = in.integer(2), v = in.integer(3);
  if (!in.ok) return nullptr;
  const RowPasses& rp = rowPasses();
  parallelRange(n, streamGrain(n, rowGrainFor(v)), [&](long lo, long hi) { entropyRows(rp, logits, entropy, lo, hi, v); });
  return undefined(env);
}

}  // namespace lwz
