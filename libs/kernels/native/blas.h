// The optional system BLAS (blas.cpp): loading by LWZ_BLAS, the calibrated routing plan, and the timing
// the calibration is built from. Everything is a no-op until blasLoad finds a library.
#pragma once
#include <vector>

namespace lwz {

/** One calibrated shape and whether the system BLAS should run shapes nearest to it. */
struct BlasPoint {
  double m, n, k;
  bool ta, tb, useBlas;
};

struct BlasTiming {
  double oursMs, blasMs;
};

/** "auto" (MKL, OpenBLAS, BLIS: the first found), "own" (never) or a library path. True when one is loaded. */
bool blasLoad(const char* spec);
/** The loaded library's file ("" when none). */
const char* blasPath();
/** Why an explicitly named library was not loaded ("" otherwise). */
const char* blasNote();
void blasSetPlan(const std::vector<BlasPoint>& plan);
/** Whether the plan sends this (top-level) matmul to the system BLAS. */
bool blasWants(long m, long n, long k, bool ta, bool tb);
/** c (m, n) = alpha op(a) op(b) (+ c) through cblas_sgemm, or cblas_sgemv when m or n is 1. */
void blasMatmul(const float* a, const float* b, float* c, long m, long n, long k, bool ta, bool tb, float alpha, bool acc);
/** Median ms of our matmul and the BLAS's on one shape (each timed in its own block after a warm-up). */
BlasTiming blasTime(long m, long n, long k, bool ta, bool tb, int reps);

}  // namespace lwz
