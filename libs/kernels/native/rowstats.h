// Row passes shared by the softmax-family kernels (softmax.cpp, logprobs.cpp, entropy.cpp) and RMSNorm's
// backward (rmsnorm.cpp): explicit AVX-512 / AVX2 code chosen by isa() (LWZ_ISA forces a lower one), written
// once in rowpass_impl.h, and the compiler-vectorised generic C++ of rowpass.cpp. The vector log-sum-exp and
// entropy read the row from memory once (online max over blocks of 256 values, each block's exponentials taken
// while it sits in L1); float lanes per block, block sums in float64.
#pragma once
#include "common.h"

namespace lwz {

constexpr long kLseBlock = 256;  // values per online-max block: 1 KiB, in L1 for the block's second look

struct RowPasses {
  /** log(sum_j e^x[j]); -inf for an empty or all -inf row, +inf if any x is +inf, NaN for a NaN. */
  double (*lse)(const float* x, long v);
  /** -sum_j p log p of softmax(x); 0 for an all -inf row or one holding +inf (as ref), NaN for a NaN. */
  double (*entropy)(const float* x, long v);
  // stream (the write passes below): write o / dx with non-temporal stores where whole 64-byte lines allow
  // (streamOutput in common.h decides; the caller runs _mm_sfence before the output is read). The generic
  // passes ignore it and store plainly.
  /** o = (x - hi) - lo (log-softmax with lse split as float hi + lo). o may alias x. */
  void (*shift)(const float* x, float* o, long v, float hi, float lo, bool stream);
  /** o = s e^((x - hi) - lo); -inf gives exactly 0. o may alias x. */
  void (*exp)(const float* x, float* o, long v, float hi, float lo, float s, bool stream);
  /**
   * lse of x (as lse) while writing the previous row of the same length: po = (px - hi) - lo (as shift). Null
   * on the generic path (softmax.cpp then calls lse and shift).
   */
  double (*lseShift)(const float* x, long v, const float* px, float* po, float hi, float lo, bool stream);
  /** RMSNorm backward of one row of c (rmsnorm.cpp): dx written, blk (c,) += dy x rs (blk null: dx only). */
  void (*rmsnormBackward)(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c, bool stream);
  /**
   * blk (c,) = sum over `rows` rows (c apart) of dy x rs[r], in row order: the bits rmsnormBackward's blk updates
   * give from blk = 0. rmsnorm.cpp then runs the row passes with blk null, for plain-store dx out of place only.
   * AVX-512 only: on a Xeon (AVX-512, 2 cores, (8192, 1024) and (8192, 896)) the row pass with a blk store beside
   * each dx store ran at 0.43-0.63x of a plain copy and 0.74-0.93x with this pass (four runs); on AVX2 (that Xeon,
   * a Zen 3) it was even or slower (Zen 3 (8192, 1024): 0.89 against 1.04x), and with streamed dx slower on both
   * (Xeon 0.66-0.73 against 0.74-0.92x, Zen 3 0.80 against 0.95x). Null elsewhere (benchmarks/README.md,
   * 2026-11-30; rowpass-ab.ts).
   */
  void (*rmsnormDw)(const float* dy, const float* x, const float* rs, long rows, long c, float* blk);
  /**
   * Rows [r0, r1) of the embedding gather (embedding.cpp): out row r = table row ids[r] (c values), written with
   * non-temporal stores a vector at a time, as the bandwidth probe's streaming copy writes; c a multiple of 16 and
   * out on a 64-byte boundary (the caller checks), fenced before returning. Null on the generic path, which never
   * streams.
   */
  void (*gatherStream)(const float* table, const int32_t* ids, float* out, long r0, long r1, long c);
};

/** The row passes for the instruction set the kernels use now. */
const RowPasses& rowPasses();
const RowPasses& rowPassesAvx512();
const RowPasses& rowPassesAvx2();

/** Rows per chunk so one chunk holds about 32k values. */
inline long rowGrainFor(long v) { return maxL(1, (1 << 15) / maxL(v, 1)); }

}  // namespace lwz
