// GEMM/GEMV building blocks shared by the driver (gemm.cpp, gemv.cpp), the blocking model (blocking.cpp),
// the packing routines (gemm_pack.cpp) and the per-ISA micro-kernels (gemm_avx512.cpp, gemm_avx2.cpp,
// gemm_generic.cpp). Row-major float32 throughout; transposes are handled while packing, never by copying
// whole matrices.
#pragma once
#include "common.h"

namespace lwz {

/**
 * One register tile: C[rows x cols] (row stride ldc) = alpha * sum_p ap[p*MR + i] * bp[p*NR + j] (+ C when
 * accumulate), rows <= MR, cols <= NR. ap is a packed (kc, MR) panel of op(A) (broadcast, kept in L1), bp a
 * packed (kc, NR) panel of op(B) (vector loads, streamed from L2). Edge tiles run with fewer rows/columns.
 */
using MicroKernel = void (*)(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate,
                             int rows, int cols);

/** out[r] = alpha * dot(w[r*ldw : r*ldw+k], x) (+ out[r] when accumulate), for r < rows. */
using DotRows = void (*)(const float* w, long ldw, long rows, const float* x, long k, float* out, float alpha,
                         bool accumulate);

/** y[j] += sum_p x[p] * w[p*ldw + j] for j < n, p < k: rows stream past a y that stays in cache. */
using AxpyRows = void (*)(const float* w, long ldw, long k, long n, const float* x, float* y);

struct GemmKernels {
  Isa isa;
  int mr, nr;  // register tile: MR rows of op(A) broadcast against NR columns of op(B)
  MicroKernel micro;
  DotRows dot;
  AxpyRows axpy;
  /**
   * A panels the block path (gemm.cpp's sweep) runs against each B panel in turn (1: each A panel against every B
   * panel of the block before the next). Above 1 a B panel is read from L2 once per `rowGroup` A panels instead of
   * once per panel, and the group's A panels (broadcast, 24 of the 6x16 tile's 88 bytes a depth step) come from L2.
   * The few-columns path keeps its order (the same swap there measured no faster on dy^T x 256x2048x256).
   */
  int rowGroup = 1;
  /**
   * Transposed op(A) with 3 row groups a thread and op(B) wider than nc takes the few-columns path at its shallower
   * slice, the rows shared by whole lines (gemm.cpp's few-columns-shallow-balanced), up to this many nc of columns;
   * 0: never (the block path). Set where that measured faster than the block path.
   */
  int shallowBalancedColumns = 0;
};

/** Cache blocking of the packed GEMM (blocking.cpp). */
struct GemmBlocking {
  long kc;  // depth of a packed slice: the (MR, kc) panel of op(A) stays in L1
  long nc;  // columns of op(B) one thread packs per block: the (kc, nc) block stays in its L2
  long mc;  // rows of op(A) packed per block and shared by all threads: the (mc, kc) block stays in L3
  const char* source;  // "model" (derived from the caches), "tuned" or "set" (setGemmBlocking)
};

const GemmKernels& kernelsAvx512();
const GemmKernels& kernelsAvx2();
const GemmKernels& kernelsGeneric();
const GemmKernels& kernelsFor(Isa v);

/** The blocking the GEMM uses for this instruction set now (derived from the caches unless overridden). */
GemmBlocking gemmBlocking(Isa v);
/** The analytical blocking for these register tiles and caches (no overrides): see blocking.cpp. */
GemmBlocking modelBlocking(const GemmKernels& kk);
/** Override the blocking of one instruction set (kc, nc, mc > 0), or restore the model's (all 0). */
void setGemmBlocking(Isa v, long kc, long nc, long mc, const char* source);

/** The few-columns path's default threshold for transposed op(A): row groups a thread (gemm_fewcolumns.cpp). */
constexpr int kFewColumnsGroupsDefault = 4;
/** The op(B) widths (padded columns) up to which a tuned threshold applies, one entry each; wider keeps the default. */
constexpr int kFewColumnsWidths = 4;
constexpr long kFewColumnsWidth[kFewColumnsWidths] = {128, 256, 384, 512};
/**
 * Row groups of transposed op(A) per thread from which gemm takes the few-columns path (either variant) for an op(B)
 * nPad columns wide: the entry of the narrowest width in kFewColumnsWidth that holds nPad, kFewColumnsGroupsDefault
 * beyond them or unless the tuner (`nx run kernels:tune`, libs/kernels/src/cpu/tune.ts) measured another candidate
 * faster on this machine. Which is faster differs between CPUs and with the width (benchmarks/README.md).
 */
int fewColumnsGroups(Isa v, long nPad);
/** Entry `i` of one instruction set's table (i < kFewColumnsWidths). */
int fewColumnsGroupsAt(Isa v, int i);
/** Set one instruction set's table: kFewColumnsWidths entries, each >= 1, or 0 for the default. */
void setFewColumnsGroups(Isa v, const int* groups);

/**
 * The loop order gemm takes for this shape now (top-level call, op(B) not packed beforehand, so never the packed
 * weights' order): "few-columns", "few-columns-shallow", "few-rows", "block", "gemv" (m or n is 1: gemv.cpp), or
 * "none" (an empty shape). For tests and the tuner's report.
 */
const char* gemmPathName(long m, long n, long k, bool transA, bool transB);

/** Median ms of our gemm (or gemv) on one shape over `reps` calls after a warm-up, on fixed operands (the tuner's clock). */
double gemmTime(long m, long n, long k, bool transA, bool transB, int reps);

/** Pack rows [i0, i0+mc) x depth [p0, p0+kc) of op(A)(i, p) = a[i*rs + p*cs] into (kc, mr) panels, zero-padded. */
void packA(const float* a, long rs, long cs, long m, long i0, long mc, long p0, long kc, int mr, float* dst);
/**
 * packA for transposed A (op(A)(i, p) = a[p*cs + i]), depths [pFrom, pTo) of the slice only, into the same (kc, mr)
 * panels packA(a, 1, cs, m, i0, mc, p0, kc, mr, dst) writes: a group of panels packed in pieces between micro-kernel
 * calls.
 */
void packATransposed(const float* a, long cs, long m, long i0, long mc, long p0, long kc, long pFrom, long pTo, int mr,
                     float* dst);
/** Pack columns [j0, j0+nc) x depth [p0, p0+kc) of op(B)(p, j) = b[p*rs + j*cs] into (kc, nr) panels, zero-padded. */
void packB(const float* b, long rs, long cs, long n, long j0, long nc, long p0, long kc, int nr, float* dst);
/**
 * packB for plain B (op(B)(p, j) = b[p*rs + j]), depths [pFrom, pTo) of the slice only, into the same (kc, nr) panels
 * packB(b, rs, 1, n, j0, nc, p0, kc, nr, dst) writes: a slice packed by several threads, each a range of whole rows.
 */
void packBRows(const float* b, long rs, long n, long j0, long nc, long p0, long kc, long pFrom, long pTo, int nr, float* dst);

/**
 * How gemm packs a whole op(B) of depth k and n columns once for many calls (a weight reused by every decode
 * step): the plan's depth per slice kc, the register tile's NR and the floats it takes. Slice s (depths
 * [s*kc, s*kc + kcs)) starts at s*kc * roundUp(n, NR) and holds its NR-wide (kcs, NR) panels side by side, the
 * layout gemm's own per-block packing produces. Depends on the instruction set and blocking of the moment.
 */
struct PackedLayout {
  long kc, nr, floats;
};
PackedLayout packedLayout(long n, long k);
/** Pack op(b) (k, n) (b is (n, k) when transB) whole into dst (packedLayout(n, k).floats), threaded. */
void packWhole(const float* b, long n, long k, bool transB, float* dst);

/**
 * c (m, n) = alpha * op(a) @ op(b) (+ c). a is (m, k) or (k, m) when transA; b is (k, n) or (n, k).
 * slot >= 0: run on the calling thread only, with that thread's scratch (inside a parallelFor chunk).
 * packedB: op(b) already packed by packWhole under the current layout (then b is not read).
 */
void gemm(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot = -1, const float* packedB = nullptr);

/** Matrix-vector products (m == 1 or n == 1): true when handled. slot as for gemm. */
bool gemv(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot = -1);

}  // namespace lwz
