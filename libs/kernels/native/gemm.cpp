// Packed GEMM driver (BLIS-style loop nest, blocking from blocking.cpp): for each (mc row block, kc depth
// slice), op(A) is packed once into MR-row panels shared by all threads (L3); threads then claim column
// blocks of op(B), pack each into NR-wide panels of their own (L2), and sweep the A panels (each kept in L1)
// against the B panels with the register-tile micro-kernel. Edge tiles run the micro-kernel with fewer rows
// and masked columns. Transposes are absorbed by packing. Not the GEMV path (gemv.cpp), not batching (matmul.cpp).
#include <immintrin.h>

#include "gemm.h"
#include "pool.h"

namespace lwz {
namespace {

struct Plan {
  long kc, kSlices;   // depth per slice (K split evenly)
  long mc, mBlocks;   // rows of op(A) per packed block
  long nc, nBlocks;   // columns of op(B) per thread task
  long mChunks;       // row ranges per task when there are fewer column blocks than threads
};

Plan plan(const GemmKernels& kk, const GemmBlocking& bl, long m, long n, long k, int nt) {
  Plan p;
  p.kSlices = ceilDiv(k, bl.kc);
  p.kc = roundUp(ceilDiv(k, p.kSlices), 8);
  if (p.kc > k) p.kc = k;
  p.mBlocks = ceilDiv(m, bl.mc);
  p.mc = roundUp(ceilDiv(m, p.mBlocks), kk.mr);
  // Column blocks: at most nc wide, a multiple of the thread count when there are enough NR panels, so threads
  // finish together; with too few panels, rows are split instead.
  const long panels = ceilDiv(n, kk.nr);
  p.nBlocks = minL(panels, roundUp(ceilDiv(n, bl.nc), nt));
  p.nc = ceilDiv(panels, p.nBlocks) * kk.nr;
  p.nBlocks = ceilDiv(n, p.nc);
  p.mChunks = p.nBlocks >= nt ? 1 : minL(ceilDiv(nt, p.nBlocks), ceilDiv(p.mc, kk.mr));
  return p;
}

// Rows [r0, r1) of the packed A block (panel-aligned) against one packed B block of `cols` columns.
void sweep(const GemmKernels& kk, const float* ap, const float* bp, float* c, long ldc, long r0, long r1, long rowsValid,
           long cols, long kc, float alpha, bool accumulate) {
  const long mr = kk.mr, nr = kk.nr;
  for (long ir = r0; ir < r1 && ir < rowsValid; ir += mr) {
    const float* apanel = ap + ir * kc;
    const int rows = static_cast<int>(minL(mr, rowsValid - ir));
    for (long jr = 0; jr < cols; jr += nr) {
      const int cw = static_cast<int>(minL(nr, cols - jr));
      kk.micro(kc, apanel, bp + jr * kc, c + ir * ldc + jr, ldc, alpha, accumulate, rows, cw);
    }
  }
}

// Part `part` of `parts` of the next panel's lines: plain A (the only kind this path takes), `rows` contiguous row
// pieces of kc floats at row stride rs.
void prefetchPanelPart(const float* a, long rs, long rows, long p0, long kc, long part, long parts) {
  if (rows <= 0) return;
  const long perRow = ceilDiv(kc, 16), lines = rows * perRow;
  for (long x = lines * part / parts; x < lines * (part + 1) / parts; x++)
    _mm_prefetch(reinterpret_cast<const char*>(a + (x / perRow) * rs + p0 + (x % perRow) * 16), _MM_HINT_T0);
}

// Few columns (op(B) fits one thread's L2 block, N = 256 in the model's backward and head GEMMs): A would be
// packed for only N / NR panels of B, and packing the whole (mc, kc) block first made those shapes 0.8-0.96x
// OpenBLAS (benchmarks/README.md). Here op(B)'s (kc, n) slice is packed once into a shared block, and each thread
// packs one MR-row panel of op(A) at a time into an L1 buffer and sweeps it at once against every B panel,
// prefetching the next panel's rows meanwhile: A is read from memory once, while the micro-kernel runs.
void gemmFewColumns(const GemmKernels& kk, const Plan& p, const float* a, long aRs, long aCs, const float* b, long bRs,
                    long bCs, float* c, long m, long n, long k, float alpha, bool accumulate, int nt, int slot,
                    const float* packedB) {
  const long mr = kk.mr, nr = kk.nr, bPanels = ceilDiv(n, nr), aPanels = ceilDiv(m, mr);
  const long chunks = minL(aPanels, minL(kAffinityChunks, 4 * nt));
  for (long ks = 0; ks < p.kSlices; ks++) {
    const long pc = ks * p.kc, kc = minL(p.kc, k - pc);
    const bool acc = accumulate || pc > 0;
    // (n/NR, kc, NR): packWhole's slice when op(B) came packed, else packed here
    const float* bp = packedB ? packedB + pc * bPanels * nr : nullptr;
    if (!bp) {
      float* own = scratch(kPackB, slot >= 0 ? slot : 0, static_cast<size_t>(bPanels * nr * kc));
      parallelFor(
          bPanels, [&](long jp, int) { packB(b, bRs, bCs, n, jp * nr, nr, pc, kc, static_cast<int>(nr), own + jp * nr * kc); },
          nt > 1);
      bp = own;
    }
    parallelFor(
        chunks,
        [&](long ch, int tid) {
          float* ap = scratch(kPackA, slot >= 0 ? slot : tid, static_cast<size_t>(mr * kc));  // (kc, MR)
          const long q1 = aPanels * (ch + 1) / chunks;
          for (long q = aPanels * ch / chunks; q < q1; q++) {
            const long i = q * mr, rows = minL(mr, m - i);
            packA(a, aRs, aCs, m, i, mr, pc, kc, static_cast<int>(mr), ap);
            const long nextRows = q + 1 < q1 ? minL(mr, m - i - mr) : 0;
            const float* next = a + (i + mr) * aRs;
            for (long jp = 0; jp < bPanels; jp++) {
              prefetchPanelPart(next, aRs, nextRows, pc, kc, jp, bPanels);
              const int cw = static_cast<int>(minL(nr, n - jp * nr));
              kk.micro(kc, ap, bp + jp * nr * kc, c + i * n + jp * nr, n, alpha, acc, static_cast<int>(rows), cw);
            }
          }
        },
        nt > 1, true);
  }
}

}  // namespace

PackedLayout packedLayout(long n, long k) {
  const GemmKernels& kk = kernelsFor(isa());
  const Plan p = plan(kk, gemmBlocking(isa()), 1, n, k, 1);  // the depth split depends on k and the blocking only
  return {p.kc, kk.nr, maxL(1, k) * roundUp(n, kk.nr)};
}

void packWhole(const float* b, long n, long k, bool transB, float* dst) {
  const PackedLayout pl = packedLayout(n, k);
  const long nPad = roundUp(n, pl.nr), panels = nPad / pl.nr;
  const long bRs = transB ? 1 : n, bCs = transB ? k : 1;
  const long slices = ceilDiv(k, pl.kc), chunk = maxL(1, ceilDiv(panels, 4 * threads()));
  const long per = ceilDiv(panels, chunk);
  parallelFor(slices * per, [&](long t, int) {
    const long pc = t / per * pl.kc, kcs = minL(pl.kc, k - pc), j0 = t % per * chunk * pl.nr;
    const long cols = minL(chunk * pl.nr, n - j0);
    if (cols > 0) packB(b, bRs, bCs, n, j0, cols, pc, kcs, static_cast<int>(pl.nr), dst + pc * nPad + j0 * kcs);
  });
}

void gemm(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot, const float* packedB) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (long i = 0; i < m * n; i++) c[i] = 0.0f;
    return;
  }
  const GemmKernels& kk = kernelsFor(isa());
  const long mr = kk.mr, nr = kk.nr;
  const long aRs = transA ? 1 : k, aCs = transA ? m : 1;
  const long bRs = transB ? 1 : n, bCs = transB ? k : 1;
  const double work = static_cast<double>(m) * n * k;
  // Threaded from 2 M multiply-adds (~25 us on one core, several times a fork-join): the batch-32 decode GEMMs
  // of a small model (M = 32, K = 256, m*n*k 1-6 M) ran on one thread under the old 16 M bound (#10).
  const int nt = slot >= 0 || work < 2.0e6 ? 1 : threads();
  const GemmBlocking bl = gemmBlocking(isa());
  const Plan p = plan(kk, bl, m, n, k, nt);
  // not for transposed A: its panel is kc strided pieces of MR floats, and packing the whole block (whole rows
  // of memory) measured 0.90 vs 0.96x OpenBLAS on dy^T x with this path (benchmarks/README.md)
  if (!transA && roundUp(n, nr) <= bl.nc && ceilDiv(m, mr) >= 4 * nt)
    return gemmFewColumns(kk, p, a, aRs, aCs, b, bRs, bCs, c, m, n, k, alpha, accumulate, nt, slot, packedB);
  const long aPanels = ceilDiv(p.mc, mr);
  for (long ib = 0; ib < p.mBlocks; ib++) {
    const long i0 = ib * p.mc, mcCur = minL(p.mc, m - i0);
    const long curPanels = ceilDiv(mcCur, mr);
    for (long ks = 0; ks < p.kSlices; ks++) {
      const long pc = ks * p.kc, kc = minL(p.kc, k - pc);
      const bool acc = accumulate || pc > 0;
      float* ap = scratch(kPackA, slot >= 0 ? slot : 0, static_cast<size_t>(aPanels * mr * kc));
      const long packChunk = maxL(1, ceilDiv(curPanels, 4 * nt));
      parallelFor(
          ceilDiv(curPanels, packChunk),
          [&](long ch, int) {
            const long r0 = ch * packChunk * mr, r1 = minL(mcCur, r0 + packChunk * mr);
            packA(a, aRs, aCs, m, i0 + r0, r1 - r0, pc, kc, static_cast<int>(mr), ap + r0 * kc);
          },
          nt > 1);
      parallelFor(
          p.nBlocks * p.mChunks,
          [&](long task, int tid) {
            const long jb = task / p.mChunks, ch = task % p.mChunks;
            const long j0 = jb * p.nc, cols = minL(p.nc, n - j0);
            const long r0 = curPanels * ch / p.mChunks * mr, r1 = curPanels * (ch + 1) / p.mChunks * mr;
            if (r0 >= r1) return;
            const float* bp = packedB ? packedB + pc * roundUp(n, nr) + j0 * kc : nullptr;
            if (!bp) {
              float* own = scratch(kPackB, slot >= 0 ? slot : tid, static_cast<size_t>(roundUp(cols, nr) * kc));
              packB(b, bRs, bCs, n, j0, cols, pc, kc, static_cast<int>(nr), own);
              bp = own;
            }
            sweep(kk, ap, bp, c + i0 * n + j0, n, r0, r1, mcCur, cols, kc, alpha, acc);
          },
          nt > 1);
    }
  }
}

}  // namespace lwz
