// The few-columns loop order of the packed GEMM (gemm_paths.h, gemmFewColumns): op(B) packed whole once, each thread
// sweeping its row groups of op(A) slice by slice while the next group is prefetched or packed; the depth split and
// the rows shared by whole lines are its variants. Not the choice of path (gemm.cpp) nor the micro-kernels.
#include <immintrin.h>

#include "gemm_paths.h"
#include "pool.h"

namespace lwz {
namespace {

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

}  // namespace

// Declared, and described, in gemm_paths.h.
void gemmFewColumns(const GemmKernels& kk, const GemmBlocking& bl, const Plan& p, const float* a, bool transA,
                    const float* b, long bRs, long bCs, float* c, long m, long n, long k, float alpha, bool accumulate,
                    int nt, int slot, const float* packedB, bool lineRows) {
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
}  // namespace lwz
