// Data movement kernels: copyForward (out = src, 4-byte elements of either dtype, memcpy per chunk) and
// fillForward (out[i] = value). Threads for large sizes. The TypeScript op has checked sizes, dtypes and
// that src and out do not overlap; the arrays may be subarrays (views) of larger buffers.
#include <cstdint>
#include <cstring>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 18;

template <typename T>
void fillRange(T* out, long lo, long hi, T value) {
  for (long i = lo; i < hi; i++) out[i] = value;
}

}  // namespace

// (src, out, n): src and out both Float32Array or both Int32Array
napi_value copyForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "copyForward");
  napi_typedarray_type st, ot;
  const char* src = static_cast<const char*>(in.any32(0, &st));
  char* out = static_cast<char*>(in.any32(1, &ot));
  const long n = in.integer(2);
  if (!in.ok) return nullptr;
  if (st != ot) {
    in.error("copyForward: src and out must have the same dtype");
    return nullptr;
  }
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { std::memcpy(out + 4 * lo, src + 4 * lo, 4 * static_cast<size_t>(hi - lo)); });
  return undefined(env);
}

// (src, out, at, B, T, S, e, H): out[b, h, at[b] + t, :] = src[b, t, h, :] for h < H, e 4-byte values per
// (position, head): src (B, T, H, e) into out (B, H, S, e), the head-major KV cache's append; H = 1 is the plain
// (B, T, ...) -> (B, S, ...) append. src and out both Float32Array or both Int32Array, at Int32Array (B,). The op
// has checked 0 <= at[b] <= S - T. One thread: a decode step moves a few hundred bytes per row, and even a long
// prefill's copy is small beside its GEMMs.
napi_value copyAtForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "copyAtForward");
  napi_typedarray_type st, ot;
  const char* src = static_cast<const char*>(in.any32(0, &st));
  char* out = static_cast<char*>(in.any32(1, &ot));
  const int32_t* at = in.i32(2);
  const long B = in.integer(3), T = in.integer(4), S = in.integer(5), e = in.integer(6), H = in.integer(7);
  if (!in.ok) return nullptr;
  if (st != ot) {
    in.error("copyAtForward: src and out must have the same dtype");
    return nullptr;
  }
  if (H == 1) {  // whole rows: one copy per batch row
    const size_t rowBytes = 4 * static_cast<size_t>(T * e);
    for (long b = 0; b < B; b++) std::memcpy(out + 4 * (b * S + at[b]) * e, src + b * rowBytes, rowBytes);
    return undefined(env);
  }
  const size_t posBytes = 4 * static_cast<size_t>(e);
  for (long b = 0; b < B; b++)
    for (long h = 0; h < H; h++)
      for (long t = 0; t < T; t++) std::memcpy(out + 4 * ((b * H + h) * S + at[b] + t) * e, src + ((b * T + t) * H + h) * posBytes, posBytes);
  return undefined(env);
}

// (out, n, value): value converted to the array's type
napi_value fillForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "fillForward");
  napi_typedarray_type ot;
  void* out = in.any32(0, &ot);
  const long n = in.integer(1);
  const double value = in.num(2);
  if (!in.ok) return nullptr;
  if (ot == napi_float32_array) {
    const float v = static_cast<float>(value);
    parallelRange(n, kGrain, [&](long lo, long hi) { fillRange(static_cast<float*>(out), lo, hi, v); });
  } else {
    const int32_t v = static_cast<int32_t>(value);
    parallelRange(n, kGrain, [&](long lo, long hi) { fillRange(static_cast<int32_t*>(out), lo, hi, v); });
  }
  return undefined(env);
}

}  // namespace lwz
