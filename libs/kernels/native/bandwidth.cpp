// STREAM-style bandwidth probe (McCalpin's copy and triad, and a plain read) on the kernels' own thread pool:
// the physical limit the memory-bound kernels are measured against (benchmarks/kernels, `--baseline bandwidth`;
// the read: the decode attention's KV read, benchmarks/rollout long-context). Plain
// vectorised loads and stores, like the kernels they are compared with, or for the copy, on request, the
// streaming (non-temporal) stores the row-pass kernels use above the last-level cache (common.h streamOutput),
// under the same rule: a kernel that streams is held to a copy that streams. Not a kernel of the contract.
#include <immintrin.h>

#include <atomic>
#include <cstdint>

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

// dst = src with non-temporal stores on the 64-byte lines dst covers whole (plain stores at the ends), in the
// vector width the kernels use now; fenced, so the copy is visible when the chunk counts as done
__attribute__((target("avx512f"))) void copyStream16(const float* src, float* dst, long i, long hi) {
  for (; i < hi && (reinterpret_cast<uintptr_t>(dst + i) & 63); i++) dst[i] = src[i];
  for (; i + 16 <= hi; i += 16) _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
  for (; i < hi; i++) dst[i] = src[i];
  _mm_sfence();
}

__attribute__((target("avx"))) void copyStream8(const float* src, float* dst, long i, long hi) {
  for (; i < hi && (reinterpret_cast<uintptr_t>(dst + i) & 63); i++) dst[i] = src[i];
  for (; i + 8 <= hi; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
  for (; i < hi; i++) dst[i] = src[i];
  _mm_sfence();
}

// the sum of src[lo, hi): 16 independent partial sums, so the loop vectorises without reassociation
LWZ_CLONES float readRange(const float* src, long lo, long hi) {
  float acc[16] = {0.0f};
  long i = lo;
  for (; i + 16 <= hi; i += 16)
    for (int u = 0; u < 16; u++) acc[u] += src[i + u];
  for (; i < hi; i++) acc[0] += src[i];
  for (int u = 1; u < 16; u++) acc[0] += acc[u];
  return acc[0];
}

LWZ_CLONES void triadRange(float* a, const float* b, const float* c, float s, long lo, long hi) {
  for (long i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
}

}  // namespace

// (src, dst, n, stream): dst = src; moves 8 n bytes. stream: non-temporal stores when the row-pass kernels
// would stream an output of this size (streamOutput(8 n); their generic path never streams, so neither does this)
napi_value streamCopy(napi_env env, napi_callback_info info) {
  Args in(env, info, "streamCopy");
  const float* src = in.f32(0);
  float* dst = in.f32(1);
  const long n = in.integer(2);
  const bool stream = in.flag(3);
  if (!in.ok) return nullptr;
  void (*copy)(const float*, float*, long, long) = copyRange;
  if (stream && dst != src && isa() != Isa::generic && streamOutput(8.0 * n))
    copy = isa() == Isa::avx512 ? copyStream16 : copyStream8;
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { copy(src, dst, lo, hi); });
  return undefined(env);
}

// (src, n): the sum of src[0, n) (returned, so the reads cannot be dropped); reads 4 n bytes
napi_value streamRead(napi_env env, napi_callback_info info) {
  Args in(env, info, "streamRead");
  const float* src = in.f32(0);
  const long n = in.integer(1);
  if (!in.ok) return nullptr;
  std::atomic<double> total{0.0};
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) {
    const double part = readRange(src, lo, hi);
    double seen = total.load();
    while (!total.compare_exchange_weak(seen, seen + part)) continue;  // seen now holds the current total
  });
  napi_value out;
  napi_create_double(env, total.load(), &out);
  return out;
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
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { triadRange(a, b, c, s, lo, hi); });
  return undefined(env);
}

}  // namespace lwz
