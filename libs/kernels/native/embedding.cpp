// Embedding gather (out[n, :] = table[ids[n], :]) and its scatter-add backward (dTable[ids[n], :] +=
// dOut[n, :]). Ids are checked before any write; an id outside [0, V) throws naming its position. The
// backward splits columns across threads (one wide block each), so repeated ids accumulate without races and
// in row order whatever the thread count.
#include <cstdio>
#include <cstring>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "rowstats.h"
#include "vecmath.h"

namespace lwz {
namespace {

bool checkIds(Args& in, const char* op, const int32_t* ids, long n, long v) {
  for (long r = 0; r < n; r++) {
    if (ids[r] < 0 || ids[r] >= v) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: id %d at position %ld is outside the vocabulary [0, %ld)", op, ids[r], r, v);
      in.error(msg);
      return false;
    }
  }
  return true;
}

// dTable[ids[r], j0:j1] += dOut[r, j0:j1] for every row r in order; compiled per ISA (LWZ_CLONES) like the other
// kernels' loops, where the plain function got baseline x86-64's SSE2 adds only.
LWZ_CLONES void scatterColumns(const float* dOut, const int32_t* ids, float* dTable, long n, long c, long j0, long j1) {
  for (long r = 0; r < n; r++) {
    float* dst = dTable + static_cast<long>(ids[r]) * c;
    const float* src = dOut + r * c;
    // the next row's block of dOut and of its dTable row (for writing), requested up front: the gather's one line
    // per 64 bytes, tried here in 16-value add steps, took 2.8x the time (benchmarks/README.md "2026-11-30 08:37")
    if (r + 1 < n) {
      const char* nd = reinterpret_cast<const char*>(dTable + static_cast<long>(ids[r + 1]) * c + j0);
      const char* ns = reinterpret_cast<const char*>(src + c + j0);
      for (long b = 0; b < (j1 - j0) * static_cast<long>(sizeof(float)); b += 64) {
        __builtin_prefetch(nd + b, 1, 3);
        __builtin_prefetch(ns + b, 0, 3);
      }
    }
    for (long j = j0; j < j1; j++) dst[j] += src[j];
  }
}

// out rows [r0, r1) = table rows ids[r], one 64-byte line at a time, each copy requesting the next row's matching
// line (embeddingForward says why); plain stores (memcpy) for any row width.
void gatherRowsPlain(const float* table, const int32_t* ids, float* out, long r0, long r1, long c) {
  for (long r = r0; r < r1; r++) {
    const float* src = table + static_cast<long>(ids[r]) * c;
    float* dst = out + r * c;
    const float* next = r + 1 < r1 ? table + static_cast<long>(ids[r + 1]) * c : src;
    long j = 0;
    for (; j + 16 <= c; j += 16) {
      __builtin_prefetch(next + j, 0, 3);
      std::memcpy(dst + j, src + j, 16 * sizeof(float));
    }
    if (j < c) {  // a row's last partial block (or a whole row under 16 values)
      __builtin_prefetch(next + j, 0, 3);
      std::memcpy(dst + j, src + j, (c - j) * sizeof(float));
    }
  }
}

}  // namespace

// (table, ids, out, n, c, v)
napi_value embeddingForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "embeddingForward");
  const float* table = in.f32(0);
  const int32_t* ids = in.i32(1);
  float* out = in.f32(2);
  const long n = in.integer(3), c = in.integer(4), v = in.integer(5);
  if (!in.ok || !checkIds(in, "embedding", ids, n, v)) return nullptr;
  // Rows sit at random places in the table, so each one starts a stream the hardware prefetchers have to pick up
  // anew: the next row's lines are requested while this one is copied, so its reads are in flight as a copy's would
  // be (Zen 5: 0.66-0.71 -> 0.70-0.75 of the copy, benchmarks/README.md "2026-11-30 06:16"), one line per 64 bytes
  // copied rather than the whole row up front (Zen 5: 0.69-0.74 -> 0.89-0.94 in five alternated suite runs, two of
  // them with LWZ_ISA=avx2, which does not change this loop; "2026-11-30 08:37"). Likely (not measured: that VM has
  // no PMU counters) a burst of a row's 64 requests held the core's miss buffers while this row's own lines waited.
  // An output larger than the last-level cache is written with streaming stores, as the row passes write theirs
  // (common.h streamOutput; never on the generic path): a plain store first reads each line it fills. Only when
  // every row is whole 64-byte lines on line boundaries (C a multiple of 16, out aligned as the cpu tensors are);
  // other shapes take the plain loop. Zen 5 (8192 x 1024 rows): 1.35x faster, 0.86-0.89 of the streaming copy
  // against 0.81-0.84 of the plain one before (benchmarks/README.md "2026-12-02 13:20"). The streamed rows are
  // stored a whole vector at a time (one zmm or two ymm stores a line, as the bandwidth probe's streaming copy stores),
  // not as four 16-byte SSE stores: Zen 5, 8192 x 1024, 0.88-0.90 -> 0.90-0.94 of the streaming copy in three
  // alternated suite runs, kernel 0.738 -> 0.680 ms in one process (benchmarks/README.md "2026-12-02 21:40").
  const bool stream = isa() != Isa::generic && c % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 64 == 0 &&
                      streamOutput(8.0 * n * c);
  const auto gather = stream ? rowPasses().gatherStream : gatherRowsPlain;
  parallelRange(n, streamGrain(n, maxL(1, (1 << 16) / maxL(c, 1))),
                [&](long lo, long hi) { gather(table, ids, out, lo, hi, c); });
  return undefined(env);
}

// (dOut, ids, dTable, n, c, v)
napi_value embeddingBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "embeddingBackward");
  const float* dOut = in.f32(0);
  const int32_t* ids = in.i32(1);
  float* dTable = in.f32(2);
  const long n = in.integer(3), c = in.integer(4), v = in.integer(5);
  if (!in.ok || !checkIds(in, "embeddingBackward", ids, n, v)) return nullptr;
  // column blocks as wide as the thread count allows: each thread streams long contiguous pieces of the rows
  const long block = maxL(64, roundUp(ceilDiv(c, threads()), 16));
  parallelFor(
      ceilDiv(c, block),
      [&](long blk, int) {
        const long j0 = blk * block;
        scatterColumns(dOut, ids, dTable, n, c, j0, minL(c, j0 + block));
      },
      static_cast<double>(n) * c > 1.0e5);
  return undefined(env);
}

}  // namespace lwz
