// Packed GEMM driver (BLIS-style loop nest, blocking from blocking.cpp): for each (mc row block, kc depth
// slice), op(A) is packed once into MR-row panels shared by all threads (L3); threads then claim column
// blocks of op(B), pack each into NR-wide panels of their own (L2), and sweep the A panels (each kept in L1)
// against the B panels with the register-tile micro-kernel. Edge tiles run the micro-kernel with fewer rows
// and masked columns. Transposes are absorbed by packing. Two shapes take their own order, each packing its
// streamed operand piece by piece between micro-kernel calls: few columns (gemmFewColumns) and few rows of x W^T
// (gemmFewRows). Not the GEMV path (gemv.cpp), not batching (matmul.cpp).
#include <immintrin.h>

#include "cpuinfo.h"
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
  const long mr = kk.mr, nr = kk.nr, end = minL(r1, rowsValid), group = kk.rowGroup * mr;
  for (long g0 = r0; g0 < end; g0 += group)
    for (long jr = 0; jr < cols; jr += nr) {
      const int cw = static_cast<int>(minL(nr, cols - jr));
      for (long ir = g0; ir < minL(end, g0 + group); ir += mr)
        kk.micro(kc, ap + ir * kc, bp + jr * kc, c + ir * ldc + jr, ldc, alpha, accumulate,
                 static_cast<int>(minL(mr, rowsValid - ir)), cw);
    }
}

// Part `part` of `parts` of the next panel's lines into L1: plain A, `rows` rows of kc floats at stride rs.
void prefetchPanelPart(const float* a, long rs, long rows, long kc, long part, long parts) {
  if (rows <= 0) return;
  const long perRow = ceilDiv(kc, 16), lines = rows * perRow;
  for (long x = lines * part / parts; x < lines * (part + 1) / parts; x++)
    _mm_prefetch(reinterpret_cast<const char*>(a + (x / perRow) * rs + (x % perRow) * 16), _MM_HINT_T0);
}

// Rows [r0, r1) of `len` floats at stride rs, requested non-temporally: the next pieces of a transposed group, each
// line read once by the pack. Against requests into L2 (T1), on Zen 5: dy^T x 1024x2048x256 1.00-1.07x faster at 2
// threads on either tile, 0.99-1.10x at 1; head dW 4096x2048x256 1.01-1.04x with the 6x16 tile, 0.97-1.08x with the
// 12x32 (benchmarks/README.md "2026-12-02 16:20"). Most likely the reason: a group's piece of a row is 3 lines, and
// at a power-of-two row stride every depth's 3 lines fall into the same few dozen L2 sets, where, brought into L2,
// they evict the op(B) slice every micro-kernel call rereads (not measured: no PMU).
void prefetchRows(const float* a, long rs, long r0, long r1, long len) {
  for (long r = r0; r < r1; r++)
    for (long x = 0; x < len; x += 16) _mm_prefetch(reinterpret_cast<const char*>(a + r * rs + x), _MM_HINT_NTA);
}

// MR-row panels of op(A) the few-columns path packs together: one for plain A (a panel is MR whole rows of
// memory); for transposed A, where a panel is kc pieces of MR floats a row of memory apart, enough panels that a
// group's piece of each row is a whole number of 64-byte lines (MR 12: 4 panels, 48 floats; MR 6: 8; MR 4: 4),
// so each line of A is read once, by one pack.
long groupPanels(long mr, bool transA) {
  long g = 1;
  while (transA && (g * mr) % 16 != 0) g++;
  return g;
}

// Depth slices [k0, k1) of gemmFewColumns: op(B)'s packed slice at depth pc is at bp + (pc - k0)*nPad. Each chunk of
// work is a range of rows of op(A) in groups of gm rows from its start; the ranges are whole groups, or with
// `lineRows` (transposed A) whole 64-byte lines of A's rows of memory (16 rows), so that a few groups still share
// out evenly: dy^T x 256x2048x256 on 2 threads is 6 groups of 48 rows, the last of 16, which whole groups share
// 144 / 112, lines 128 / 128 (as groups of 32, 48 and 48: one panel of 8 rows a thread).
void sweepFewColumns(const GemmKernels& kk, const Plan& p, const float* a, bool transA, const float* bp, float* c, long m,
                     long n, long k, long k0, long k1, float alpha, bool accumulate, int nt, int slot, bool lineRows) {
  const long aRs = transA ? 1 : k, aCs = transA ? m : 1;
  const long mr = kk.mr, nr = kk.nr, bPanels = ceilDiv(n, nr), nPad = bPanels * nr, g = groupPanels(mr, transA), gm = g * mr;
  const long groups = ceilDiv(m, gm), slices = ceilDiv(k1 - k0, p.kc);
  const bool byLines = transA && lineRows;
  const long unit = byLines ? 16 : gm, units = ceilDiv(m, unit);
  // by lines: a multiple of the thread count, so that every thread gets as many rows (16 threads: 16, not 22)
  const long few = minL(groups, minL(kAffinityChunks, 4 * nt));
  const long chunks = byLines ? maxL(nt, few / nt * nt) : few;
  parallelFor(
      chunks,
      [&](long ch, int tid) {
        // (G, kc, MR) for the group being swept; transposed A: a second one, the next group packed meanwhile
        float* ap = scratch(kPackA, slot >= 0 ? slot : tid, static_cast<size_t>((transA ? 2 : 1) * gm * p.kc));
        float* nextAp = ap + gm * p.kc;
        // rows [r0, r1) of op(A): nq groups of gm rows from r0, the last one shorter
        const long r0 = minL(m, units * ch / chunks * unit), r1 = minL(m, units * (ch + 1) / chunks * unit);
        const long nq = ceilDiv(r1 - r0, gm), steps = nq * slices;
        if (transA && steps > 0) packA(a, aRs, aCs, r1, r0, gm, k0, minL(p.kc, k - k0), static_cast<int>(mr), ap);
        for (long st = 0; st < steps; st++) {
          const long pc = k0 + st / nq * p.kc, kc = minL(p.kc, k - pc), i = r0 + st % nq * gm;
          const long rows = minL(gm, r1 - i), panels = ceilDiv(rows, mr), parts = panels * bPanels;
          // the next step's group: the next one in this slice, or the first one of the next slice
          const long npc = k0 + (st + 1) / nq * p.kc, nkc = minL(p.kc, k - npc), ni = r0 + (st + 1) % nq * gm;
          const long nextRows = st + 1 < steps ? minL(gm, r1 - ni) : 0;
          const bool acc = accumulate || pc > k0;
          const float* bslice = bp + (pc - k0) * nPad;
          if (!transA) packA(a, aRs, aCs, r1, i, gm, pc, kc, static_cast<int>(mr), ap);
          // transposed: the next group's rows (nkc of them) in `parts` pieces, each prefetched one micro-kernel call
          // before it is packed (soon enough that the power-of-two stride's cache set conflicts do not evict it)
          const float* next = transA ? a + npc * aCs + ni : a + ni * aRs + npc;
          if (transA && nextRows > 0) prefetchRows(next, aCs, 0, nkc / parts, nextRows);
          for (long x = 0; x < parts; x++) {
            const long t = x / bPanels, jp = x % bPanels;
            if (!transA)
              prefetchPanelPart(next, aRs, nextRows, nkc, jp, bPanels);
            else if (nextRows > 0)
              prefetchRows(next, aCs, nkc * (x + 1) / parts, minL(nkc, nkc * (x + 2) / parts), nextRows);
            const int cw = static_cast<int>(minL(nr, n - jp * nr));
            kk.micro(kc, ap + t * mr * kc, bslice + jp * nr * kc, c + (i + t * mr) * n + jp * nr, n, alpha, acc,
                     static_cast<int>(minL(mr, rows - t * mr)), cw);
            if (transA && nextRows > 0)
              packATransposed(a, aCs, r1, ni, gm, npc, nkc, nkc * x / parts, nkc * (x + 1) / parts, static_cast<int>(mr),
                              nextAp);
          }
          if (transA) {
            float* done = ap;
            ap = nextAp;
            nextAp = done;
          }
        }
      },
      nt > 1, true);
}

// Depths of plain op(B) one task of gemmFewColumns's whole-B pack takes (all columns of each row).
constexpr long kBRowsPiece = 64;

// Whether gemmFewColumns splits its depth slices between the threads (sweepFewColumnsSplitK) rather than its row
// groups: threaded, with fewer than kFewColumnsGroupsDefault groups of op(A) a thread.
bool splitsDepth(const GemmKernels& kk, long m, bool transA, int nt, int slot) {
  return nt > 1 && slot < 0 && ceilDiv(m, groupPanels(kk.mr, transA) * kk.mr) < kFewColumnsGroupsDefault * nt;
}

// Depth slices [k0, k1) of gemmFewColumns split between the threads instead of its row groups, when op(A) has
// fewer than kFewColumnsGroupsDefault row groups a thread: with so few, whole groups cannot be shared out evenly
// (dy^T x 256x2048x256 on 2 threads: 6 groups of 48 rows, the last of 16, so one thread swept 144 rows and the other
// 112). Each thread sweeps every row group over its own contiguous depths, the first into C, the others into
// partial products of their own (kWork, M x N each) that are then added into C. Per element the sum is taken in
// nt pieces instead of in order, so the result differs from the one-thread path by rounding.
void sweepFewColumnsSplitK(const GemmKernels& kk, const Plan& p, const float* a, bool transA, const float* bp, float* c,
                           long m, long n, long k, long k0, long k1, float alpha, bool accumulate, int nt) {
  const long nPad = roundUp(n, kk.nr), slices = ceilDiv(k1 - k0, p.kc);
  float* part = scratch(kWork, 0, static_cast<size_t>((nt - 1) * m * n));
  parallelFor(
      nt,
      [&](long t, int tid) {
        // slices >= nt (the caller's condition): every thread has at least one
        const long a0 = k0 + slices * t / nt * p.kc, a1 = minL(k1, k0 + slices * (t + 1) / nt * p.kc);
        float* dst = t == 0 ? c : part + (t - 1) * m * n;
        sweepFewColumns(kk, p, a, transA, bp + (a0 - k0) * nPad, dst, m, n, k, a0, a1, alpha, t == 0 && accumulate, 1, tid,
                        false);
      },
      true, true);
  parallelFor(nt, [&](long t, int) {
    const long i0 = m * n * t / nt, i1 = m * n * (t + 1) / nt;
    for (long q = 0; q < nt - 1; q++) {
      const float* src = part + q * m * n;
      for (long i = i0; i < i1; i++) c[i] += src[i];
    }
  });
}

// Few columns (op(B) fits one thread's L2 block, N = 256 in the model's backward and head GEMMs): A would be
// packed for only N / NR panels of B, and packing the whole (mc, kc) block first made those shapes 0.8-0.96x
// OpenBLAS (benchmarks/README.md). Here the whole op(B) is packed once, shared (packWhole's layout, or packedB
// itself), and each thread takes a range of row groups of op(A) and walks its (depth slice, group) pairs slice by
// slice, with no barrier between slices (its (kc, n) slice of B stays in its L2 for the slice): it packs one group
// of MR-row panels at a time (groupPanels: one panel, L1, for plain A; G panels, L2, for transposed A) and sweeps
// each panel at once against every B panel while the next group's lines are prefetched (plain A), or prefetched
// and packed piece by piece into a second buffer (transposed A): A is read from memory once, while computing.
// lineRows (GemmPath::FewColumnsBalanced): the threads share the rows of transposed A by whole lines, never the depth.
void gemmFewColumns(const GemmKernels& kk, const GemmBlocking& bl, const Plan& p, const float* a, bool transA,
                    const float* b, long bRs, long bCs, float* c, long m, long n, long k, float alpha, bool accumulate,
                    int nt, int slot, const float* packedB, bool lineRows = false) {
  const long nr = kk.nr, bPanels = ceilDiv(n, nr), nPad = bPanels * nr;
  const bool splitK = !lineRows && splitsDepth(kk, m, transA, nt, slot);
  // Slices [s0, s1) at a time: all of them when op(B) came packed, else as many as the L3 budget of the block
  // path's packed A (mc * kc floats) holds, packed first into (slices, n/NR, kc, NR), depth pc's slice at
  // (pc - k0)*nPad as packWhole lays it out.
  const long span = packedB ? p.kSlices : maxL(1, bl.mc * bl.kc / (p.kc * nPad));
  for (long s0 = 0; s0 < p.kSlices; s0 += span) {
    const long s1 = minL(p.kSlices, s0 + span), k0 = s0 * p.kc, k1 = minL(k, s1 * p.kc);
    const float* bp = packedB ? packedB + k0 * nPad : nullptr;
    if (!bp) {
      float* own = scratch(kPackB, slot >= 0 ? slot : 0, static_cast<size_t>((k1 - k0) * nPad));
      // plain B: tasks of whole rows (kBRowsPiece depths of all columns), contiguous reads; one NR panel a task read
      // 64 bytes a row at stride N and packed at ~1.3 GB/s (a fifth of the one-thread dy^T x 256x2048x256,
      // benchmarks/README.md). Transposed B: one panel a task, NR rows of memory each read along its depths.
      const long pieces = bCs == 1 ? ceilDiv(p.kc, kBRowsPiece) : bPanels;
      parallelFor(
          (s1 - s0) * pieces,
          [&](long t, int) {
            const long pc = k0 + t / pieces * p.kc, kc = minL(p.kc, k - pc), q = t % pieces;
            float* slice = own + (pc - k0) * nPad;
            if (bCs != 1) return packB(b, bRs, bCs, n, q * nr, nr, pc, kc, static_cast<int>(nr), slice + q * nr * kc);
            const long from = minL(kc, q * kBRowsPiece), to = minL(kc, from + kBRowsPiece);
            if (from < to) packBRows(b, bRs, n, 0, nPad, pc, kc, from, to, static_cast<int>(nr), slice);
          },
          nt > 1);
      bp = own;
    }
    if (splitK && s1 - s0 >= nt)
      sweepFewColumnsSplitK(kk, p, a, transA, bp, c, m, n, k, k0, k1, alpha, accumulate || k0 > 0, nt);
    else
      sweepFewColumns(kk, p, a, transA, bp, c, m, n, k, k0, k1, alpha, accumulate || k0 > 0, nt, slot, lineRows);
  }
}

// The shallowest depth slice the few-columns path takes for an op(B) wider than nc: at 256 depths the C tile's load
// and store per micro-kernel call stay a small part of it. On a 512 KiB L2 (nc 144 for the 6x16 tile) N = 256 gets
// 376 and ran 1.0-1.3x the block path on the model's N = 256 shapes (benchmarks/README.md); on a 1 MiB L2 those are
// within nc already.
constexpr long kFewColumnsMinKc = 256;

// Depths [p0, p1) of op(B)'s columns [j0, j0 + cols) into L2, transposed B (cols rows of memory, each a
// contiguous run of depths): the next B panel's piece, packed right after the next micro-kernel call.
void prefetchBPart(const float* b, long cs, long j0, long cols, long p0, long p1) {
  for (long j = j0; j < j0 + cols; j++)
    for (long q = p0; q < p1; q += 16) _mm_prefetch(reinterpret_cast<const char*>(b + j * cs + q), _MM_HINT_T1);
}

// Few rows (a packed op(A) depth slice fits half an L2 B block, M <= ~100: batched decode; all of op(A) within
// the block path's L3 budget for packed A) and many columns of a transposed op(B) (x W^T, W (N, K) row-major) not
// packed beforehand: the block path packed each thread's (kc, nc) block of B, a read of memory not overlapped with
// anything (~40 % of a 64x4096x4096 call, benchmarks/README.md). Here op(A) is packed whole once (shared), and
// each thread takes a range of NR-column panels of op(B) (NR rows of W) and walks its (depth slice, panel) pairs
// slice by slice: it sweeps one packed B panel against every A panel of the slice while the next panel is
// prefetched and packed piece by piece into a second buffer between the micro-kernel calls. Not for plain B: a
// panel there is one 64- or 128-byte piece per row at a power-of-two stride, and this order measured no better
// than the block path (benchmarks/README.md).
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

// Work (multiply-adds) from which gemmPackedFewRows splits its column panels over the threads: ~6 us on one core
// against a fork-join of ~1 us with the workers spinning (benchmarks/README.md, 2-core Zen 3); the general 2 M bound
// below kept the decode projections of `tiny` (8x256x704, 1.4 M) on one thread (#10).
constexpr double kPackedFewRowsThreaded = 1.5e5;

// Few rows (all of op(A) fits the block path's L3 budget and one depth slice half an L2 block: batched decode, M up
// to ~70) against a pre-packed op(B) (a decode weight, packWhole's layout): each thread takes a contiguous range of
// NR-column panels of op(B) (affinity: the same part of the weight every decode step), packs all of op(A) into its
// own scratch first (M x K floats, a few us: no fork-join of its own, no packed A read from the other core's cache;
// one shared pack by the caller ran 1.06-1.47x slower on tiny's M = 2-8 shapes, benchmarks/README.md) and walks all
// depth slices of its panels, sweeping each B panel against every A panel. The block path packed A in a fork-join of
// its own and stayed on one thread below 2 M multiply-adds. Per element the arithmetic is the block path's (same
// depth slices, same micro-kernel), so the result is the same bit for bit. Splitting M = 8 as 4 + 4 rows instead of
// 6 + 2 measured 0.96-1.05x (the 2-row tile is not the cost it looks) and slowed the pack (only 6-row panels have a
// vector transpose): 0.84-0.94x on 8x3072x768 (benchmarks/README.md).
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
