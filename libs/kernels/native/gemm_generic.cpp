// Portable micro-kernels (no SIMD intrinsics; the compiler vectorises for the baseline ISA): a 4x8 register
// tile, row dot products and row axpy for GEMV. Used when the CPU has neither AVX2+FMA nor AVX-512, and by
// tests that force the fallback.
#include "gemm.h"

namespace lwz {
namespace {

constexpr int MR = 4;
constexpr int NR = 8;

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate, int rows, int cols) {
  float acc[MR][NR] = {};
  for (long p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const float av = ap[i];
      for (int j = 0; j < NR; j++) acc[i][j] += av * bp[j];
    }
    ap += MR;
    bp += NR;
  }
  for (int i = 0; i < rows; i++) {
    float* row = c + i * ldc;
    for (int j = 0; j < cols; j++) row[j] = alpha * acc[i][j] + (accumulate ? row[j] : 0.0f);
  }
}

void dotRows(const float* w, long ldw, long rows, const float* x, long k, float* out, float alpha, bool accumulate) {
  for (long r = 0; r < rows; r++) {
    const float* row = w + r * ldw;
    float part[8] = {};
    long p = 0;
    for (; p + 8 <= k; p += 8)
      for (int u = 0; u < 8; u++) part[u] += row[p + u] * x[p + u];
    float s = 0.0f;
    for (int u = 0; u < 8; u++) s += part[u];
    for (; p < k; p++) s += row[p] * x[p];
    out[r] = alpha * s + (accumulate ? out[r] : 0.0f);
  }
}

void axpyRows(const float* w, long ldw, long k, long n, const float* x, float* y) {
  for (long p = 0; p < k; p++) {
    const float* row = w + p * ldw;
    const float xv = x[p];
    for (long j = 0; j < n; j++) y[j] += xv * row[j];
  }
}

}  // namespace

const GemmKernels& kernelsGeneric() {
  static const GemmKernels k{Isa::generic, MR, NR, micro, dotRows, axpyRows};
  return k;
}

const GemmKernels& kernelsFor(Isa v) {
  switch (v) {
    case Isa::avx512: return kernelsAvx512();
    case Isa::avx2: return kernelsAvx2();
    default: return kernelsGeneric();
  }
}

}  // namespace lwz
