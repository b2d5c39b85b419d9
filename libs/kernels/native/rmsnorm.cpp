// RMSNorm forward (y = x rstd w, rstd = 1/sqrt(mean(x^2) + eps), saved per row) and backward
// (dx = rstd dy w - rstd^3/C x sum(dy w x), overwritten; dw += sum over rows of dy x rstd, in the same pass).
// Row sums in float32 over 16 interleaved partial sums (error ~ C/16 ulp; float64 cost a third of the kernel's
// time); the backward's row (dot, dx, dw terms) is rowstats.h's explicit-vector pass, chosen by isa(). dw terms
// summed in float over 16-row blocks, then in float64. x, y, dy, dx (N, C); w, dw (C,); rstd (N,).
#include <immintrin.h>

#include <cmath>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"
#include "vecmath.h"

namespace lwz {
namespace {

// Row r of y is written in the same loop that sums the squares of row r + 1 (sumF32 with the write in its term,
// so the same partial sums, order and rstd as a plain sum), so the reads of the next row stream while y is
// stored, as in a copy, where a sum pass and then a write pass from L1 left no read in flight during the write but
// for prefetchRow's burst of the next row.
LWZ_CLONES void forwardRows(const float* x, const float* w, float* y, float* rstd, long r0, long r1, long c, double eps) {
  if (r0 >= r1) return;
  double ss = sumF32(c, [&](long j) { return x[r0 * c + j] * x[r0 * c + j]; });
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * c;
    const float rsf = static_cast<float>(1.0 / std::sqrt(ss / c + eps));
    float* yr = y + r * c;
    if (r + 1 < r1) {
      const float* xn = xr + c;
      ss = sumF32(c, [&](long j) {
        yr[j] = xr[j] * rsf * w[j];
        return xn[j] * xn[j];
      });
    } else {
      for (long j = 0; j < c; j++) yr[j] = xr[j] * rsf * w[j];
    }
    rstd[r] = rsf;
  }
}

constexpr long kDwBlock = 16;  // rows whose dw terms are summed in float before joining the float64 partial

// Rows [r0, r1): dx overwritten, and this chunk's dw partial (C,) accumulated while each row is in cache, so dy
// and x are read from memory once. blk (C,) is float scratch. The row pass prefetches the next row of dy and x while
// it writes dx (rowpass_impl.h prefetchNextRow: 1.1-1.5x on Zen 4, benchmarks/README.md); a prefetch of the next
// rows ahead of this loop, or during the dot pass, gained nothing robust.
LWZ_CLONES void backwardRows(const RowPasses& rp, const float* dy, const float* x, const float* w, const float* rstd, float* dx,
                  double* dwPart, float* blk, long r0, long r1, long c, bool stream) {
  for (long j = 0; j < c; j++) dwPart[j] = 0.0;
  // the dw terms in a column pass per block of rows (rowstats.h rmsnormDw: AVX-512, plain-store dx, and never in
  // place, since that pass reads dy and x after the rows' dx are written), else in the row pass; the same bits
  const bool columns = rp.rmsnormDw != nullptr && !stream && dx != dy && dx != x;
  for (long rb = r0; rb < r1; rb += kDwBlock) {
    const long re = minL(r1, rb + kDwBlock);
    if (columns) {
      for (long r = rb; r < re; r++) rp.rmsnormBackward(dy + r * c, x + r * c, w, rstd[r], dx + r * c, nullptr, c, stream);
      rp.rmsnormDw(dy + rb * c, x + rb * c, rstd + rb, re - rb, c, blk);
    } else {
      for (long j = 0; j < c; j++) blk[j] = 0.0f;
      for (long r = rb; r < re; r++) rp.rmsnormBackward(dy + r * c, x + r * c, w, rstd[r], dx + r * c, blk, c, stream);
    }
    for (long j = 0; j < c; j++) dwPart[j] += blk[j];
  }
  if (stream) _mm_sfence();  // the streamed dx rows are visible before this chunk counts as done
}

long rowGrain(long c) { return maxL(1, (1 << 15) / maxL(c, 1)); }

}  // namespace

// (x, w, y, rstd, n, c, eps)
napi_value rmsnormForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "rmsnormForward");
  const float* x = in.f32(0);
  const float* w = in.f32(1);
  float* y = in.f32(2);
  float* rstd = in.f32(3);
  const long n = in.integer(4), c = in.integer(5);
  const double eps = in.num(6);
  if (!in.ok) return nullptr;
  parallelRange(n, streamGrain(n, rowGrain(c)), [&](long lo, long hi) { forwardRows(x, w, y, rstd, lo, hi, c, eps); });
  return undefined(env);
}

// (dy, x, w, rstd, dx, dw, n, c). dw partials per fixed row chunk (at most 64 chunks, independent of the
// thread count), added in chunk order: the result does not depend on threads or scheduling.
napi_value rmsnormBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "rmsnormBackward");
  const float* dy = in.f32(0);
  const float* x = in.f32(1);
  const float* w = in.f32(2);
  const float* rstd = in.f32(3);
  float* dx = in.f32(4);
  float* dw = in.f32(5);
  const long n = in.integer(6), c = in.integer(7);
  if (!in.ok) return nullptr;
  if (n <= 0 || c <= 0) return undefined(env);
  const long grain = maxL(rowGrain(c), ceilDiv(n, 64)), chunks = ceilDiv(n, grain);
  // (chunks, C) float64 partials in reused scratch (a fresh 0.5 MB vector per call cost page faults)
  const RowPasses& rp = rowPasses();
  double* parts = reinterpret_cast<double*>(scratch(kWork2, 0, static_cast<size_t>(2 * chunks * c)));
  // reads dy, x and writes dx once: 12 n c bytes; dx streamed only when it is a separate buffer
  const bool stream = dx != dy && dx != x && streamOutput(12.0 * n * c);
  // a task takes consecutive chunks, ~8 tasks per thread, so each thread streams long runs (pool.h streamGrain)
  const long per = maxL(1, chunks / (8L * threads()));
  parallelFor(
      ceilDiv(chunks, per),
      [&](long task, int tid) {
        float* blk = scratch(kWork, tid, static_cast<size_t>(c));
        for (long ch = task * per; ch < minL(chunks, (task + 1) * per); ch++)
          backwardRows(rp, dy, x, w, rstd, dx, parts + ch * c, blk, ch * grain, minL(n, (ch + 1) * grain), c, stream);
      },
      n > 2 * rowGrain(c));
  parallelRange(c, 256, [&](long j0, long j1) {
    for (long j = j0; j < j1; j++) {
      double acc = 0.0;
      for (long ch = 0; ch < chunks; ch++) acc += parts[static_cast<size_t>(ch * c + j)];
      dw[j] = static_cast<float>(dw[j] + acc);
    }
  });
  return undefined(env);
}

}  // namespace lwz
