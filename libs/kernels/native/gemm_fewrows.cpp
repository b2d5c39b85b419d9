// The few-rows loop orders of the packed GEMM (gemm_paths.h): gemmFewRows (op(A) packed whole once, each thread
// packing its panels of a transposed op(B) piece by piece between micro-kernel calls) and gemmPackedFewRows (against a
// weight packed beforehand: batched decode). Not the choice of path (gemm.cpp) nor the micro-kernels.
#include <immintrin.h>

#include "gemm_paths.h"
#include "pool.h"

namespace lwz {
namespace {

// Depths [p0, p1) of op(B)'s columns [j0, j0 + cols) into L2, transposed B (cols rows of memory, each a
// contiguous run of depths): the next B panel's piece, packed right after the next micro-kernel call.
void prefetchBPart(const float* b, long cs, long j0, long cols, long p0, long p1) {
  for (long j = j0; j < j0 + cols; j++)
    for (long q = p0; q < p1; q += 16) _mm_prefetch(reinterpret_cast<const char*>(b + j * cs + q), _MM_HINT_T1);
}

// Work (multiply-adds) from which gemmPackedFewRows splits its column panels over the threads: ~6 us on one core
// against a fork-join of ~1 us with the workers spinning (benchmarks/README.md, 2-core Zen 3); gemm.cpp's general 2 M
// bound (gemmThreads) kept the decode projections of `tiny` (8x256x704, 1.4 M) on one thread (#10).
constexpr double kPackedFewRowsThreaded = 1.5e5;

}  // namespace

// Declared, and described, in gemm_paths.h.
void gemmFewRows(const GemmKernels& kk, const Plan& p, const float* a, long aRs, long aCs, const float* b, long bRs,
                 long bCs, float* c, long m, long n, long k, float alpha, bool accumulate, int nt) {
  const long mr = kk.mr, nr = kk.nr, aPanels = ceilDiv(m, mr), mPad = aPanels * mr, bPanels = ceilDiv(n, nr);
  // (K/kc slices, m/MR, kc, MR): depth pc's slice at pc*mPad
  float* ap = scratch(kPackA, 0, static_cast<size_t>(k * mPad));
  parallelFor(
      p.kSlices * aPanels,
      [&](long t, int) {
        const long pc = t / aPanels * p.kc, kc = minL(p.kc, k - pc), ir = t % aPanels * mr;
        packA(a, aRs, aCs, m, ir, mr, pc, kc, static_cast<int>(mr), ap + pc * mPad + ir * kc);
      },
      nt > 1);
  const long chunks = minL(bPanels, minL(kAffinityChunks, 4 * nt));
  parallelFor(
      chunks,
      [&](long ch, int tid) {
        float* bp = scratch(kPackB, tid, static_cast<size_t>(2 * nr * p.kc));  // (kc, NR) twice: swept, next
        float* nextBp = bp + nr * p.kc;
        const long q0 = bPanels * ch / chunks, nq = bPanels * (ch + 1) / chunks - q0, steps = nq * p.kSlices;
        if (steps > 0) packB(b, bRs, bCs, n, q0 * nr, nr, 0, minL(p.kc, k), static_cast<int>(nr), bp);
        for (long st = 0; st < steps; st++) {
          const long pc = st / nq * p.kc, kc = minL(p.kc, k - pc), j = (q0 + st % nq) * nr;
          // the next step's panel: the next one in this slice, or the first one of the next slice
          const long npc = (st + 1) / nq * p.kc, nkc = minL(p.kc, k - npc), nj = (q0 + (st + 1) % nq) * nr;
          const bool more = st + 1 < steps, acc = accumulate || pc > 0;
          const long cols = minL(nr, n - j), ncols = minL(nr, n - nj);
          // piece x of the next panel: depths [cut(x), cut(x + 1)), cuts on multiples of 8 (the 8x8 transposes)
          auto cut = [&](long x) { return x >= aPanels ? nkc : minL(nkc, nkc * x / aPanels / 8 * 8); };
          if (more) prefetchBPart(b, bCs, nj, ncols, npc + cut(0), npc + cut(1));
          for (long x = 0; x < aPanels; x++) {
            if (more) prefetchBPart(b, bCs, nj, ncols, npc + cut(x + 1), npc + cut(x + 2));
            const int rows = static_cast<int>(minL(mr, m - x * mr));
            kk.micro(kc, ap + pc * mPad + x * mr * kc, bp, c + x * mr * n + j, n, alpha, acc, rows, static_cast<int>(cols));
            if (more && cut(x + 1) > cut(x))
              packB(b, bRs, bCs, n, nj, nr, npc + cut(x), cut(x + 1) - cut(x), static_cast<int>(nr), nextBp + cut(x) * nr);
          }
          float* done = bp;
          bp = nextBp;
          nextBp = done;
        }
      },
      nt > 1, true);
}

// Declared, and described, in gemm_paths.h.
void gemmPackedFewRows(const GemmKernels& kk, const Plan& p, const float* a, long aRs, long aCs, const float* packedB,
                       float* c, long m, long n, long k, float alpha, bool accumulate, int nt) {
  const long mr = kk.mr, nr = kk.nr, aPanels = ceilDiv(m, mr), mPad = aPanels * mr;
  const long bPanels = ceilDiv(n, nr), nPad = bPanels * nr;
  const bool parallel = nt > 1 && static_cast<double>(m) * n * k >= kPackedFewRowsThreaded;
  const long chunks = parallel ? minL(bPanels, minL(kAffinityChunks, 4 * nt)) : 1;
  bool packed[kMaxThreads] = {};  // whether thread t has packed op(A) into its own scratch this call
  parallelFor(
      chunks,
      [&](long ch, int tid) {
        // (K/kc slices, aPanels, kc, MR): depth pc's slice at pc*mPad
        float* ap = scratch(kPackA, tid, static_cast<size_t>(k * mPad));
        for (long pc = 0; pc < k && !packed[tid]; pc += p.kc)
          packA(a, aRs, aCs, m, 0, mPad, pc, minL(p.kc, k - pc), static_cast<int>(mr), ap + pc * mPad);
        packed[tid] = true;
        const long q0 = bPanels * ch / chunks, q1 = bPanels * (ch + 1) / chunks;
        for (long pc = 0; pc < k; pc += p.kc) {
          const long kc = minL(p.kc, k - pc);
          const bool acc = accumulate || pc > 0;
          const float* bs = packedB + pc * nPad;
          const float* as = ap + pc * mPad;
          for (long q = q0; q < q1; q++) {
            const long j = q * nr;
            const int cols = static_cast<int>(minL(nr, n - j));
            for (long x = 0; x < aPanels; x++)
              kk.micro(kc, as + x * mr * kc, bs + j * kc, c + x * mr * n + j, n, alpha, acc,
                       static_cast<int>(minL(mr, m - x * mr)), cols);
          }
        }
      },
      parallel, true);
}

}  // namespace lwz
