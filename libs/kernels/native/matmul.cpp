// matmulForward entry point: batching and the choice between GEMV (M = 1 or N = 1) and the packed GEMM.
// A shared 2-D b with a non-transposed a folds the batch into M (one bigger GEMM instead of Bt small ones);
// other batches of GEMMs too small to thread individually run one whole GEMM per thread. Top-level GEMMs go
// to the system BLAS where its calibration says it is faster (blas.cpp; never inside a parallel batch).
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

// (a, b, out, batch, m, n, k, bBatched, transA, transB, alpha, accumulate)
napi_value matmulForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "matmulForward");
  const float* a = in.f32(0);
  const float* b = in.f32(1);
  float* c = in.f32(2);
  const long batch = in.integer(3), m = in.integer(4), n = in.integer(5), k = in.integer(6);
  const bool bBatched = in.flag(7), ta = in.flag(8), tb = in.flag(9);
  const float alpha = static_cast<float>(in.num(10));
  const bool acc = in.flag(11);
  if (!in.ok) return nullptr;
  if (!bBatched && !ta) {
    matmulOne(a, b, c, batch * m, n, k, ta, tb, alpha, acc);
    return undefined(env);
  }
  const double each = static_cast<double>(m) * n * k;
  if (each < 1.6e7 && batch * each >= 1.0e6) {
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

}  // namespace lwz
