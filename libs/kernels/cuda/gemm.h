// The GEMM engines behind lwz_matmul (matmul.cu): cuBLASLt loaded at run time (cublaslt.cu) and our own
// bf16 tensor-core kernel (gemm_wmma.cu), which is the fallback and the cross-check. Row-major throughout.
#pragma once
#include <cstdint>
#include <string>

namespace lwz {

/** out (Bt, M, N) = alpha op(a) op(b) (+ out); a (Bt, M, K) or (Bt, K, M) when transA; b (Bt or 1, K, N) or (.., N, K). */
struct GemmArgs {
  const void* a;
  int adt;
  const void* b;
  int bdt;
  void* out;
  int odt;
  int64_t batch, m, n, k;
  bool bBatched, transA, transB;
  float alpha;
  bool accumulate;
};

/** "cuBLASLt 13.0.0 (path)" or "own tensor-core kernel (cuBLASLt not loaded: reason)"; loads cuBLASLt once. */
std::string gemmEngineDescription();
/** 1 = ran on cuBLASLt, 0 = not applicable here (not loaded, unsupported types, no algorithm), -1 = error. */
int gemmCublasLt(const GemmArgs& g);
int gemmOwn(const GemmArgs& g);

}  // namespace lwz
