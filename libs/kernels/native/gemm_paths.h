// The GEMM driver's loop orders besides the block path (gemm.cpp), one file each, and the plan they share with it:
// few columns of op(B) (gemm_fewcolumns.cpp) and few rows of op(A) (gemm_fewrows.cpp). gemm.cpp's choosePath decides
// which one a shape takes; nothing here chooses.
#pragma once
#include "gemm.h"

namespace lwz {

struct Plan {
  long kc, kSlices;   // depth per slice (K split evenly)
  long mc, mBlocks;   // rows of op(A) per packed block
  long nc, nBlocks;   // columns of op(B) per thread task
  long mChunks;       // row ranges per task when there are fewer column blocks than threads
};

// MR-row panels of op(A) the few-columns path packs together: one for plain A (a panel is MR whole rows of
// memory); for transposed A, where a panel is kc pieces of MR floats a row of memory apart, enough panels that a
// group's piece of each row is a whole number of 64-byte lines (MR 12: 4 panels, 48 floats; MR 6: 8; MR 4: 4),
// so each line of A is read once, by one pack.
inline long groupPanels(long mr, bool transA) {
  long g = 1;
  while (transA && (g * mr) % 16 != 0) g++;
  return g;
}

// The shallowest depth slice the few-columns path takes for an op(B) wider than nc: at 256 depths the C tile's load
// and store per micro-kernel call stay a small part of it. On a 512 KiB L2 (nc 144 for the 6x16 tile) N = 256 gets
// 376 and ran 1.0-1.3x the block path on the model's N = 256 shapes (benchmarks/README.md); on a 1 MiB L2 those are
// within nc already.
constexpr long kFewColumnsMinKc = 256;

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
                    int nt, int slot, const float* packedB, bool lineRows = false);

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
                 long bCs, float* c, long m, long n, long k, float alpha, bool accumulate, int nt);

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
                       float* c, long m, long n, long k, float alpha, bool accumulate, int nt);

}  // namespace lwz
