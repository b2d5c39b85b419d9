// Packed GEMM driver (BLIS-style loop nest, blocking from blocking.cpp): for each (mc row block, kc depth
// slice), op(A) is packed once into MR-row panels shared by all threads (L3); threads then claim column
// blocks of op(B), pack each into NR-wide panels of their own (L2), and sweep the A panels (each kept in L1)
// against the B panels with the register-tile micro-kernel. Edge tiles run the micro-kernel with fewer rows
// and masked columns. Transposes are absorbed by packing. Two shapes take their own order, each packing its
// streamed operand piece by piece between micro-kernel calls: few columns (gemm_fewcolumns.cpp) and few rows of
// x W^T (gemm_fewrows.cpp); choosePath below decides. Not the GEMV path (gemv.cpp), not batching (matmul.cpp).
#include "cpuinfo.h"
#include "gemm_paths.h"
#include "pool.h"

namespace lwz {
namespace {

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
  const long mr = kk.mr, nr = kk.nr, end = minL(r1, rowsValid), group = kk.rowGroup * mr;
  for (long g0 = r0; g0 < end; g0 += group)
    for (long jr = 0; jr < cols; jr += nr) {
      const int cw = static_cast<int>(minL(nr, cols - jr));
      for (long ir = g0; ir < minL(end, g0 + group); ir += mr)
        kk.micro(kc, ap + ir * kc, bp + jr * kc, c + ir * ldc + jr, ldc, alpha, accumulate,
                 static_cast<int>(minL(mr, rowsValid - ir)), cw);
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

namespace {

enum class GemmPath {
  FewColumns,
  FewColumnsBalanced,
  PackedFewRows,
  FewRows,
  FewColumnsShallow,
  FewColumnsShallowBalanced,
  Block
};

// Row groups of transposed op(A) a thread from which the few-columns path runs, its rows shared by whole lines and its
// depth in order, while the threshold for this width of op(B) is the default (kFewColumnsGroupsDefault; a tuned lower
// one takes the depth split instead, a tuned higher one the block path). Same bits as the block path: each element's
// sum runs over the same depth slices in the same order.
constexpr long kFewColumnsBalancedGroups = 3;

// Threaded from 2 M multiply-adds (~25 us on one core, several times a fork-join): the batch-32 decode GEMMs
// of a small model (M = 32, K = 256, m*n*k 1-6 M) ran on one thread under the old 16 M bound (#10).
int gemmThreads(long m, long n, long k, int slot) {
  return slot >= 0 || static_cast<double>(m) * n * k < 2.0e6 ? 1 : threads();
}

// The few-columns path's shallower depth slice for an op(B) of nPad columns a little wider than nc (below).
long fewColumnsKc(const GemmBlocking& bl, long nPad) { return bl.kc * bl.nc / nPad / 8 * 8; }

// Which loop order gemm runs for this shape (gemmPathName reports it; the decision lives here only).
GemmPath choosePath(const GemmKernels& kk, const GemmBlocking& bl, const Plan& p, long m, long n, long k, bool transA,
                    bool transB, int nt, int slot, bool packed) {
  const long mr = kk.mr, nr = kk.nr, nPad = roundUp(n, nr);
  // Enough row groups for every thread: kFewColumnsGroupsDefault (4) a thread; for transposed A, the machine's tuned
  // count for this width of op(B) (fewColumnsGroups: with fewer groups the path gains on narrow op(B) and loses on
  // wide, and where the two cross differs between CPUs, benchmarks/README.md)
  const long groups = ceilDiv(m, groupPanels(mr, transA) * mr);
  const bool fewColumnGroups = groups >= (transA ? fewColumnsGroups(isa(), nPad) : kFewColumnsGroupsDefault) * nt;
  // With fewer than 4 groups a thread (a tuned threshold below the default) gemmFewColumns splits the depth between the
  // threads (splitsDepth). On Zen 5 (2 threads) dy^T x 96-288 rows x 2048 x 128-384 ran 1.20-1.41x faster that way
  // than on the block path (benchmarks/README.md, "2026-12-02 08:34"), but as a default it moved the main job's
  // training off its path by rounding, and that chain's outcome turned on it; the tuning step decides.
  if (nPad <= bl.nc && fewColumnGroups) return GemmPath::FewColumns;
  // Fewer than 4 groups a thread but at least 3, under the default threshold: the block path packed each depth slice of
  // A and then each thread's block of B with no computing beside either, and whole groups share out unevenly. On Zen 5
  // (2 threads, two A/B runs) dy^T x 256-336 rows x 2048 x 128-256 ran 1.02-1.28x faster this way (256x2048x256
  // 1.05-1.07x), with LWZ_ISA=avx2 x 128-192 1.15-1.48x; with 2 groups a thread (192 rows) it was even with the block
  // path, with 1 (96 rows) 0.83x, so those stay there (benchmarks/README.md, "2026-12-02 13:20").
  const bool rowsByLines = transA && nt > 1 && slot < 0 && fewColumnsGroups(isa(), nPad) == kFewColumnsGroupsDefault &&
                           groups >= kFewColumnsBalancedGroups * nt;
  if (rowsByLines && nPad <= bl.nc) return GemmPath::FewColumnsBalanced;
  // Packed weights larger than the L3 stream from memory, where the block path (both threads on neighbouring column
  // blocks of one slice) measured faster: packed 16x4096x4096 ran 0.85-0.87x here (benchmarks/README.md).
  const bool packedInL3 = static_cast<double>(k) * nPad * sizeof(float) <= static_cast<double>(cpuInfo().l3.bytes);
  if (packed && slot < 0 && packedInL3 && roundUp(m, mr) * p.kc <= bl.kc * bl.nc / 2 && roundUp(m, mr) * k <= bl.mc * bl.kc)
    return GemmPath::PackedFewRows;
  if (transB && !packed && slot < 0 && nPad > bl.nc && ceilDiv(n, nr) >= 4 * nt && roundUp(m, mr) * p.kc <= bl.kc * bl.nc / 2 &&
      roundUp(m, mr) * k <= bl.mc * bl.kc)
    return GemmPath::FewRows;
  // Few columns with op(B) a little wider than nc (N = 256 against nc 144 for the 6x16 tile on a 512 KiB L2): a
  // shallower slice keeps op(B)'s (kc, n) slice within the L2 block budget (kc * nc floats), as long as it still
  // holds kFewColumnsMinKc depths. After few rows, which measured faster for the batched decode shapes (M = 64,
  // N = 256); packed weights keep their layout's kc, so the block path.
  const bool shallowFits = !packed && fewColumnsKc(bl, nPad) >= kFewColumnsMinKc;
  if (shallowFits && fewColumnGroups) return GemmPath::FewColumnsShallow;
  // The same with 3 groups a thread, its rows shared by whole lines, on tiles whose block path loses there
  // (GemmKernels::shallowBalancedColumns): with LWZ_ISA=avx2 on Zen 5 (the 6x16 tile, kc 1024, nc 192), dy^T x 256-336
  // rows x 2048 x 224-320 ran 1.09-1.29x faster than on the block path (256x2048x256 1.18x; 384 and 512 columns
  // 1.03-1.04x, 704 0.92-0.93x), while on the 12x32 tile 448-704 columns ran 0.91-1.00x (benchmarks/README.md,
  // "2026-12-02 16:20"). These are the few-columns-shallow bits (one thread takes that path for the same shape).
  if (rowsByLines && shallowFits && nPad <= kk.shallowBalancedColumns * bl.nc) return GemmPath::FewColumnsShallowBalanced;
  return GemmPath::Block;
}

}  // namespace

const char* gemmPathName(long m, long n, long k, bool transA, bool transB) {
  if (m == 1 || n == 1) return "gemv";
  if (m <= 0 || n <= 0 || k <= 0) return "none";
  const GemmKernels& kk = kernelsFor(isa());
  const int nt = gemmThreads(m, n, k, -1);
  const GemmBlocking bl = gemmBlocking(isa());
  switch (choosePath(kk, bl, plan(kk, bl, m, n, k, nt), m, n, k, transA, transB, nt, -1, false)) {
    case GemmPath::FewColumns:
      return "few-columns";
    case GemmPath::FewColumnsBalanced:
      return "few-columns-balanced";
    case GemmPath::FewColumnsShallow:
      return "few-columns-shallow";
    case GemmPath::FewColumnsShallowBalanced:
      return "few-columns-shallow-balanced";
    case GemmPath::FewRows:
      return "few-rows";
    case GemmPath::PackedFewRows:
      return "packed-few-rows";
    default:
      return "block";
  }
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
  const int nt = gemmThreads(m, n, k, slot);
  const GemmBlocking bl = gemmBlocking(isa());
  const Plan p = plan(kk, bl, m, n, k, nt);
  const GemmPath path = choosePath(kk, bl, p, m, n, k, transA, transB, nt, slot, packedB != nullptr);
  switch (path) {
    case GemmPath::FewColumns:
      return gemmFewColumns(kk, bl, p, a, transA, b, bRs, bCs, c, m, n, k, alpha, accumulate, nt, slot, packedB);
    case GemmPath::FewColumnsBalanced:
      return gemmFewColumns(kk, bl, p, a, transA, b, bRs, bCs, c, m, n, k, alpha, accumulate, nt, slot, packedB, true);
    case GemmPath::PackedFewRows:
      return gemmPackedFewRows(kk, p, a, aRs, aCs, packedB, c, m, n, k, alpha, accumulate, threads());
    case GemmPath::FewRows:
      return gemmFewRows(kk, p, a, aRs, aCs, b, bRs, bCs, c, m, n, k, alpha, accumulate, nt);
    case GemmPath::FewColumnsShallow:
    case GemmPath::FewColumnsShallowBalanced: {
      const long fewKc = fewColumnsKc(bl, roundUp(n, nr));
      return gemmFewColumns(kk, bl, plan(kk, {fewKc, bl.nc, bl.mc, bl.source}, m, n, k, nt), a, transA, b, bRs, bCs, c, m, n,
                            k, alpha, accumulate, nt, slot, packedB, path == GemmPath::FewColumnsShallowBalanced);
    }
    case GemmPath::Block:
      break;
  }
  const long aPanels = ceilDiv(p.mc, mr), mPad = aPanels * mr;
  // op(A) of one row block within the L3 budget for packed A is packed whole, every depth slice at once, and each task
  // then walks all slices of its column block: two fork-joins a call instead of two a slice (dy^T x 256x2048x256
  // spent ~14 % of its time in the pool's waits with four slices, benchmarks/README.md); C regions of different tasks
  // are disjoint, so no barrier is needed between slices. Only with at most two column-block tasks a thread per
  // slice, where the barrier is a large part of each slice: 1024^3 (four a thread) read 0.93-0.97x slice by slice.
  const bool whole = p.mBlocks == 1 && p.kSlices > 1 && mPad * k <= bl.mc * bl.kc && p.nBlocks * p.mChunks <= 2 * nt;
  for (long ib = 0; ib < p.mBlocks; ib++) {
    const long i0 = ib * p.mc, mcCur = minL(p.mc, m - i0);
    const long curPanels = ceilDiv(mcCur, mr);
    // transposed A: tasks of (row block, depth range), each reading whole lines of its rows of memory (a row block is
    // a whole number of 64-byte lines, at most 8 of groupPanels' groups wide); ranges of MR panels read each row of
    // memory in pieces that straddle lines, ~1 GB/s (a fifth of dy^T x 256x2048x256 on two threads,
    // benchmarks/README.md). Plain A: ranges of panels.
    const long rowBlock = 8 * groupPanels(mr, true) * mr, rowBlocks = ceilDiv(mcCur, rowBlock);
    const long depthChunk = roundUp(ceilDiv(p.kc, maxL(1, ceilDiv(4 * nt, rowBlocks))), 8), depths = ceilDiv(p.kc, depthChunk);
    const long packChunk = maxL(1, ceilDiv(curPanels, 4 * nt));
    const long perSlice = transA ? rowBlocks * depths : ceilDiv(curPanels, packChunk);
    // task t of slice ks's pack into ap (that slice's (mc, kc) block)
    auto packTask = [&](float* ap, long ks, long t) {
      const long pc = ks * p.kc, kc = minL(p.kc, k - pc);
      if (transA) {
        const long r0 = t / depths * rowBlock, r1 = minL(mcCur, r0 + rowBlock);
        const long q0 = minL(kc, t % depths * depthChunk), q1 = minL(kc, q0 + depthChunk);
        if (q0 < q1) packATransposed(a, aCs, m, i0 + r0, r1 - r0, pc, kc, q0, q1, static_cast<int>(mr), ap + r0 * kc);
        return;
      }
      const long r0 = t * packChunk * mr, r1 = minL(mcCur, r0 + packChunk * mr);
      packA(a, aRs, aCs, m, i0 + r0, r1 - r0, pc, kc, static_cast<int>(mr), ap + r0 * kc);
    };
    // column block / row chunk `task` of slice ks against its packed A block ap
    auto computeTask = [&](const float* ap, long ks, long task, int tid) {
      const long pc = ks * p.kc, kc = minL(p.kc, k - pc);
      const bool acc = accumulate || pc > 0;
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
    };
    if (whole) {
      // slice ks's block at ks * kc * mPad
      float* ap = scratch(kPackA, slot >= 0 ? slot : 0, static_cast<size_t>(mPad * k));
      parallelFor(
          p.kSlices * perSlice, [&](long t, int) { packTask(ap + t / perSlice * p.kc * mPad, t / perSlice, t % perSlice); },
          nt > 1);
      parallelFor(
          p.nBlocks * p.mChunks,
          [&](long task, int tid) {
            for (long ks = 0; ks < p.kSlices; ks++) computeTask(ap + ks * p.kc * mPad, ks, task, tid);
          },
          nt > 1);
      continue;
    }
    for (long ks = 0; ks < p.kSlices; ks++) {
      float* ap = scratch(kPackA, slot >= 0 ? slot : 0, static_cast<size_t>(aPanels * mr * minL(p.kc, k - ks * p.kc)));
      parallelFor(perSlice, [&](long t, int) { packTask(ap, ks, t); }, nt > 1);
      parallelFor(p.nBlocks * p.mChunks, [&](long task, int tid) { computeTask(ap, ks, task, tid); }, nt > 1);
    }
  }
}

}  // namespace lwz
