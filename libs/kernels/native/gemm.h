// GEMM/GEMV building blocks shared by the driver (gemm.cpp, gemv.cpp) and the per-ISA micro-kernels
// (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp). Row-major float32 throughout; transposes are
// handled while packing, never by copying whole matrices.
#pragma once
#include "common.h"

namespace lwz {

/**
 * One register tile: C[MR x NR] (row stride ldc) = alpha * sum_p ap[p*MR + i] * bp[p*NR + j], added to C
 * when accumulate. ap is a packed (kc, MR) panel of op(A), bp a packed (kc, NR) panel of op(B).
 */
using MicroKernel = void (*)(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate);

/** out[r] = alpha * dot(w[r*ldw : r*ldw+k], x) (+ out[r] when accumulate), for r < rows. */
using DotRows = void (*)(const float* w, long ldw, long rows, const float* x, long k, float* out, float alpha,
                         bool accumulate);

/** y[j] += sum_p x[p] * w[p*ldw + j] for j < n, p < k: rows stream past a y that stays in cache. */
using AxpyRows = void (*)(const float* w, long ldw, long k, long n, const float* x, float* y);

struct GemmKernels {
  int mr, nr;     // register tile
  int kc, mcMax;  // cache blocking: depth of a packed panel, rows of a packed A block
  long nc;        // columns of a packed B block
  MicroKernel micro;
  DotRows dot;
  AxpyRows axpy;
};

const GemmKernels& kernelsAvx512();
const GemmKernels& kernelsAvx2();
const GemmKernels& kernelsGeneric();
const GemmKernels& kernelsFor(Isa v);

/**
 * c (m, n) = alpha * op(a) @ op(b) (+ c). a is (m, k) or (k, m) when transA; b is (k, n) or (n, k).
 * slot >= 0: run on the calling thread only, with that thread's scratch (inside a parallelFor chunk).
 */
void gemm(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot = -1);

/** Matrix-vector products (m == 1 or n == 1): true when handled. slot as for gemm. */
bool gemv(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot = -1);

}  // namespace lwz
