// Chosen-token log-probs: logprobs[n] = logits[n, t] - lse[n] (lse saved; t < 0 = ignored row, logprob 0),
// and the backward dLogits[n, v] = dLogprobs[n] (onehot(t)[v] - softmax(logits[n])[v]), overwritten (may
// alias logits: each value is read before it is written). Targets >= V throw naming the row.
#include <immintrin.h>

#include <cstdio>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"
#include "vecmath.h"

namespace lwz {
namespace {

bool checkTargets(Args& in, const char* op, const int32_t* targets, long n, long v) {
  for (long r = 0; r < n; r++) {
    if (targets[r] >= v) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: target %d in row %ld is outside the vocabulary [0, %ld)", op, targets[r], r, v);
      in.error(msg);
      return false;
    }
  }
  return true;
}

void forwardRows(const RowPasses& rp, const float* logits, const int32_t* targets, float* logprobs, float* lse, long r0,
                 long r1, long v) {
  for (long r = r0; r < r1; r++) {
    const double l = rp.lse(logits + r * v, v);
    lse[r] = static_cast<float>(l);
    logprobs[r] = targets[r] < 0 ? 0.0f : static_cast<float>(logits[r * v + targets[r]] - l);
  }
}

LWZ_CLONES void backwardRows(const RowPasses& rp, const float* dLogprobs, const float* logits, const int32_t* targets,
                             const float* lse, float* dLogits, long r0, long r1, long v, bool stream) {
  for (long r = r0; r < r1; r++) {
    const long t = targets[r];
    const float d = t < 0 ? 0.0f : dLogprobs[r];
    const float* x = logits + r * v;
    float* o = dLogits + r * v;
    if (d == 0.0f) {
      for (long j = 0; j < v; j++) o[j] = 0.0f;
      continue;
    }
    rp.exp(x, o, v, lse[r], 0.0f, -d, stream);
    o[t] += d;  // this thread's own (possibly streamed) store is visible to it
  }
  if (stream) _mm_sfence();  // the streamed rows are visible before this chunk counts as done
}

}  // namespace

// (logits, targets, logprobs, lse, n, v)
napi_value tokenLogprobsForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "tokenLogprobsForward");
  const float* logits = in.f32(0);
  const int32_t* targets = in.i32(1);
  float* logprobs = in.f32(2);
  float* lse = in.f32(3);
  const long n = in.integer(4), v = in.integer(5);
  if (!in.ok || !checkTargets(in, "tokenLogprobs", targets, n, v)) return nullptr;
  const RowPasses& rp = rowPasses();
  parallelRange(n, streamGrain(n, rowGrainFor(v)), [&](long lo, long hi) { forwardRows(rp, logits, targets, logprobs, lse, lo, hi, v); });
  return undefined(env);
}

// (dLogprobs, logits, targets, lse, dLogits, n, v)
napi_value tokenLogprobsBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "tokenLogprobsBackward");
  const float* dLogprobs = in.f32(0);
  const float* logits = in.f32(1);
  const int32_t* targets = in.i32(2);
  const float* lse = in.f32(3);
  float* dLogits = in.f32(4);
  const long n = in.integer(5), v = in.integer(6);
  if (!in.ok || !checkTargets(in, "tokenLogprobsBackward", targets, n, v)) return nullptr;
  const RowPasses& rp = rowPasses();
  // reads logits and writes dLogits once: 8 n v bytes; streamed only when dLogits is a separate buffer and the
  // streaming threshold was set (common.h streamArithmeticOutput: plain stores measured faster for this pass)
  const bool stream = dLogits != logits && streamArithmeticOutput(8.0 * n * v);
  parallelRange(n, streamGrain(n, rowGrainFor(v)),
                [&](long lo, long hi) { backwardRows(rp, dLogprobs, logits, targets, lse, dLogits, lo, hi, v, stream); });
  return undefined(env);
}

}  // namespace lwz
