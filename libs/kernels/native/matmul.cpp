// matmulForward entry point: batching and the choice between GEMV (M = 1 or N = 1) and the packed GEMM.
// A shared 2-D b with a non-transposed a folds the batch into M (one bigger GEMM instead of Bt small ones);
// other batches of GEMMs too small to thread individually run one whole GEMM per thread. Top-level GEMMs go
// to the system BLAS where its calibration says it is faster (blas.cpp; never inside a parallel batch).
#include <cstdint>

#include "blas.h"
#include "gemm.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {

static void matmulOne(const float* a, const float* b, float* c, long m, long n, long k, bool ta, bool tb, float alpha,
                      bool acc, int slot = -1) {
  if (slot < 0 && blasWants(m, n, k, ta, tb)) return blasMatmul(a, b, c, m, n, k, ta, tb, alpha, acc);
  if (!gemv(a, b, c, m, n, k, ta, tb, alpha, acc, slot)) gemm(a, b, c, m, n, k, ta, tb, alpha, acc, slot);
}

// (a, b, out, batch, m, n, k, bBatched, transA, transB, alpha, accumulate[, packedB, kc, nr])
// packedB: op(b) packed by packMatmulB with depth slices kc and NR-wide panels. Used when that is still gemm's
// layout (the blocking or instruction set may have changed since) and the call is one packed GEMM of shared
// b (M > 1 rows, N > 1); otherwise b is read as usual, so a stale packing costs speed, never correctness.
napi_value matmulForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "matmulForward");
  const float* a = in.f32(0);
  const float* b = in.f32(1);
  float* c = in.f32(2);
  const long batch = in.integer(3), m = in.integer(4), n = in.integer(5), k = in.integer(6);
  const bool bBatched = in.flag(7), ta = in.flag(8), tb = in.flag(9);
  const float alpha = static_cast<float>(in.num(10));
  const bool acc = in.flag(11);
  size_t packedLen = 0;
  const float* packed = in.argc > 12 ? in.f32(12, &packedLen) : nullptr;
  const long pkc = in.argc > 12 ? in.integer(13) : 0, pnr = in.argc > 12 ? in.integer(14) : 0;
  if (!in.ok) return nullptr;
  if (packed && !bBatched && !ta && batch * m > 1 && n > 1) {
    const PackedLayout pl = packedLayout(n, k);
    const bool aligned = reinterpret_cast<uintptr_t>(packed) % 64 == 0;  // the micro-kernels' aligned panel loads
    if (aligned && pl.kc == pkc && pl.nr == pnr && static_cast<long>(packedLen) >= pl.floats) {
      gemm(a, b, c, batch * m, n, k, ta, tb, alpha, acc, -1, packed);
      return undefined(env);
    }
  }
  if (!bBatched && !ta) {
    matmulOne(a, b, c, batch * m, n, k, ta, tb, alpha, acc);
    return undefined(env);
  }
  const double each = static_cast<double>(m) * n * k;
  // several GEMMs too small to thread each: one per thread (a batch of one would run on one thread, under gemm's own
  // threading threshold of 2 M multiply-adds: a transposed-A GEMM of 2-16 M ran on one thread of two)
  if (batch > 1 && each < 1.6e7 && batch * each >= 1.0e6) {
    parallelFor(batch, [&](long bt, int tid) {
      matmulOne(a + bt * m * k, b + (bBatched ? bt * k * n : 0), c + bt * m * n, m, n, k, ta, tb, alpha, acc, tid);
    });
    return undefined(env);
  }
  for (long bt = 0; bt < batch; bt++) {
    matmulOne(a + bt * m * k, b + (bBatched ? bt * k * n : 0), c + bt * m * n, m, n, k, ta, tb, alpha, acc);
  }
  return undefined(env);
}

// (n, k) -> [kc, nr, floats]: how packMatmulB lays out op(b) of depth k and n columns now
napi_value packedMatmulLayout(napi_env env, napi_callback_info info) {
  Args in(env, info, "packedMatmulLayout");
  const long n = in.integer(0), k = in.integer(1);
  if (!in.ok) return nullptr;
  const PackedLayout pl = packedLayout(n, k);
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  const long vals[3] = {pl.kc, pl.nr, pl.floats};
  for (uint32_t i = 0; i < 3; i++) napi_set_element(env, arr, i, number(env, static_cast<double>(vals[i])));
  return arr;
}

// (b, n, k, transB, out): op(b) (k, n) packed whole into out (at least packedMatmulLayout(n, k)[2] floats)
napi_value packMatmulB(napi_env env, napi_callback_info info) {
  Args in(env, info, "packMatmulB");
  const float* b = in.f32(0);
  const long n = in.integer(1), k = in.integer(2);
  const bool tb = in.flag(3);
  size_t len = 0;
  float* out = in.f32(4, &len);
  if (!in.ok) return nullptr;
  if (static_cast<long>(len) < packedLayout(n, k).floats) {
    in.error("packMatmulB: out is smaller than packedMatmulLayout says");
    return nullptr;
  }
  packWhole(b, n, k, tb, out);
  return undefined(env);
}

}  // namespace lwz
