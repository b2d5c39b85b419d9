// lwz_matmul: picks the GEMM engine. Option "gemm" (LWZ_CUDA_GEMM): auto = cuBLASLt when it loaded and has an
// algorithm for the shape, else the own tensor-core kernel; cublaslt = cuBLASLt or an error; own = own kernel.
// f32 inputs run as bf16 products with f32 accumulation in both engines (cuBLASLt's COMPUTE_32F_FAST_16BF).
#include <cstring>

#include "common.cuh"
#include "gemm.h"

using namespace lwz;

extern "C" int lwz_matmul(const void* a, int adt, const void* b, int bdt, void* out, int odt, int64_t batch, int64_t m, int64_t n,
                          int64_t k, int b_batched, int trans_a, int trans_b, float alpha, int accumulate) {
  const char* name = "matmulForward";
  if (requireInit(name)) return -1;
  for (int dt : {adt, bdt, odt}) {
    if (dt != LWZ_F32 && dt != LWZ_BF16) return fail(name, "unknown dtype %d", dt);
  }
  if (batch < 0 || m < 0 || n < 0 || k < 0) return fail(name, "negative size (batch %lld, m %lld, n %lld, k %lld)", (long long)batch,
                                                         (long long)m, (long long)n, (long long)k);
  if (batch == 0 || m == 0 || n == 0) return 0;
  const GemmArgs g{a, adt, b, bdt, out, odt, batch, m, n, k, b_batched != 0 || batch == 1, trans_a != 0, trans_b != 0, alpha, accumulate != 0};
  const char* engine = option("gemm");
  if (std::strcmp(engine, "own") != 0) {
    const int r = gemmCublasLt(g);
    if (r != 0) return r == 1 ? checkLaunch(name) : -1;
    if (std::strcmp(engine, "cublaslt") == 0) {
      return fail(name, "gemm=cublaslt but cuBLASLt cannot run this call (%s)", gemmEngineDescription().c_str());
    }
  }
  return gemmOwn(g);
}
