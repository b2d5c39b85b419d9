// STREAM-style bandwidth probe (McCalpin's copy and triad) on the kernels' own thread pool: the physical limit
// the memory-bound kernels are measured against (benchmarks/kernels, `--baseline bandwidth`). Plain
// vectorised loads and stores, like the kernels they are compared with; not a kernel of the contract.
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 16;

// no memcpy substitution: the probe measures the same kind of stores the kernels make
LWZ_CLONES __attribute__((optimize("no-tree-loop-distribute-patterns")))
void copyRange(const float* src, float* dst, long lo, long hi) {
  for (long i = lo; i < hi; i++) dst[i] = src[i];
}

LWZ_CLONES void triadRange(float* a, const float* b, const float* c, float s, long lo, long hi) {
  for (long i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
}

}  // namespace

// (src, dst, n): dst = src; moves 8 n bytes
napi_value streamCopy(napi_env env, napi_callback_info info) {
  Args in(env, info, "streamCopy");
  const float* src = in.f32(0);
  float* dst = in.f32(1);
  const long n = in.integer(2);
  if (!in.ok) return nullptr;
  parallelRange(n, kGrain, [&](long lo, long hi) { copyRange(src, dst, lo, hi); });
  return undefined(env);
}

// (a, b, c, n, s): a = b + s c; moves 12 n bytes
napi_value streamTriad(napi_env env, napi_callback_info info) {
  Args in(env, info, "streamTriad");
  float* a = in.f32(0);
  const float* b = in.f32(1);
  const float* c = in.f32(2);
  const long n = in.integer(3);
  const float s = static_cast<float>(in.num(4));
  if (!in.ok) return nullptr;
  parallelRange(n, kGrain, [&](long lo, long hi) { triadRange(a, b, c, s, lo, hi); });
  return undefined(env);
}

}  // namespace lwz
