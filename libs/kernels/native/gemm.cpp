// Packed GEMM driver (BLIS-style loop nest): for each NC block of columns and KC slice of depth, op(B) is
// packed once into NR-wide panels (threads share the packing), then threads claim (MC row block, column
// chunk) tasks, pack their op(A) block into MR-tall panels and run the register-tile micro-kernel.
// Transposes are absorbed by the packing strides. Not the GEMV path (gemv.cpp) and not batching (matmul.cpp).
#include "gemm.h"
#include "pool.h"

namespace lwz {
namespace {

// op(A)(i, p) = a[i * rs + p * cs]; panels of mr rows, zero-padded past m.
void packA(const float* a, long rs, long cs, long m, long i0, long mc, long p0, long kc, int mr, float* dst) {
  for (long ir = 0; ir < mc; ir += mr) {
    float* d = dst + ir * kc;
    for (int i = 0; i < mr; i++) {
      long row = i0 + ir + i;
      if (ir + i < mc && row < m) {
        const float* src = a + row * rs + p0 * cs;
        for (long p = 0; p < kc; p++) d[p * mr + i] = src[p * cs];
      } else {
        for (long p = 0; p < kc; p++) d[p * mr + i] = 0.0f;
      }
    }
  }
}

// op(B)(p, j) = b[p * rs + j * cs]; one panel of nr columns starting at j0, zero-padded past n.
void packBPanel(const float* b, long rs, long cs, long n, long j0, long p0, long kc, int nr, float* dst) {
  long cols = minL(nr, n - j0);
  if (cs == 1) {
    for (long p = 0; p < kc; p++) {
      const float* src = b + (p0 + p) * rs + j0;
      float* d = dst + p * nr;
      for (long j = 0; j < cols; j++) d[j] = src[j];
      for (long j = cols; j < nr; j++) d[j] = 0.0f;
    }
    return;
  }
  for (long j = 0; j < nr; j++) {
    if (j < cols) {
      const float* src = b + (j0 + j) * cs + p0 * rs;
      for (long p = 0; p < kc; p++) dst[p * nr + j] = src[p * rs];
    } else {
      for (long p = 0; p < kc; p++) dst[p * nr + j] = 0.0f;
    }
  }
}

// One (row block x column range) task on packed panels; edge tiles go through a small buffer.
void runTask(const GemmKernels& kk, const float* ap, const float* bp, float* c, long ldc, long mc, long cols,
             long kc, float alpha, bool accumulate) {
  const int mr = kk.mr, nr = kk.nr;
  float tile[16 * 64];
  for (long jr = 0; jr < cols; jr += nr) {
    const float* bpanel = bp + (jr / nr) * nr * kc;
    long nb = minL(nr, cols - jr);
    for (long ir = 0; ir < mc; ir += mr) {
      const float* apanel = ap + ir * kc;
      long mb = minL(mr, mc - ir);
      float* ct = c + ir * ldc + jr;
      if (mb == mr && nb == nr) {
        kk.micro(kc, apanel, bpanel, ct, ldc, alpha, accumulate);
        continue;
      }
      kk.micro(kc, apanel, bpanel, tile, nr, alpha, false);
      for (long i = 0; i < mb; i++)
        for (long j = 0; j < nb; j++) ct[i * ldc + j] = tile[i * nr + j] + (accumulate ? ct[i * ldc + j] : 0.0f);
    }
  }
}

}  // namespace

void gemm(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot) {
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
  const int nt = slot >= 0 || work < 1.6e7 ? 1 : threads();
  // Row blocks: a multiple of the thread count when there are enough rows, so threads finish together.
  long mBlocks = ceilDiv(m, kk.mcMax);
  if (mBlocks < nt || mBlocks % nt) mBlocks = roundUp(mBlocks, nt);
  const long mc = roundUp(ceilDiv(m, mBlocks), mr);
  mBlocks = ceilDiv(m, mc);
  for (long jc = 0; jc < n; jc += kk.nc) {
    const long ncCur = minL(kk.nc, n - jc);
    const long nPanels = ceilDiv(ncCur, nr);
    const long nChunks = mBlocks >= nt ? 1 : minL(nPanels, ceilDiv(nt, mBlocks));
    for (long pc = 0; pc < k; pc += kk.kc) {
      const long kc = minL(kk.kc, k - pc);
      const bool acc = accumulate || pc > 0;
      float* bp = scratch(kPackB, slot >= 0 ? slot : 0, static_cast<size_t>(nPanels * nr * kc));
      parallelFor(
          nPanels, [&](long jp, int) { packBPanel(b, bRs, bCs, n, jc + jp * nr, pc, kc, nr, bp + jp * nr * kc); },
          nt > 1);
      parallelFor(mBlocks * nChunks, [&](long task, int tid) {
        const long ib = task / nChunks, ch = task % nChunks;
        const long i0 = ib * mc, mcCur = minL(mc, m - i0);
        const long p0 = nPanels * ch / nChunks, p1 = nPanels * (ch + 1) / nChunks;
        if (p0 == p1) return;
        float* ap = scratch(kPackA, slot >= 0 ? slot : tid, static_cast<size_t>(mc * kc));
        packA(a, aRs, aCs, m, i0, mcCur, pc, kc, static_cast<int>(mr), ap);
        const long col0 = p0 * nr, cols = minL(p1 * nr, ncCur) - col0;
        runTask(kk, ap, bp + p0 * nr * kc, c + i0 * n + jc + col0, n, mcCur, cols, kc, alpha, acc);
      }, nt > 1);
    }
  }
}

}  // namespace lwz
