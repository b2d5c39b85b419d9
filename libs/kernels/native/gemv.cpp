// Matrix-vector products for M = 1 (decode: x (1, K) @ W^T with W (N, K) is a row-dot GEMV; x @ W with
// W (K, N) is a row-axpy GEMV) and for N = 1 (the same two forms with A as the matrix). Threads split the
// matrix's rows into chunks, a run of them owned by each thread; each chunk streams once. Not the packed GEMM
// (gemm.cpp).
#include "gemm.h"
#include "pool.h"

namespace lwz {
namespace {

// The chunks of a threaded GEMV over `rows` rows of length k: about 32 Ki floats (128 KiB, a few us of
// streaming) or more each, at most kAffinityChunks, a multiple of the thread count so each thread owns the same
// share. With one chunk per thread a thread descheduled or woken late (a busy 2-core machine) held the whole
// call: the caller took its chunk only if it had not started, and otherwise waited for it (issue #15:
// 1x4096x4096 calls of 2 ms taking 6-14 ms under load).
long chunkCount(long rows, long k, int nt) {
  const long most = maxL(1, kAffinityChunks / nt) * nt;
  const long want = static_cast<long>(static_cast<double>(rows) * k / 32768.0);
  return maxL(nt, minL(most, want / nt * nt));
}

// First row of chunk c of `chunks`: an even split rounded down to `align` rows, so the threads' runs differ by
// less than `align` rows each (equal-size chunks with a short last one gave 6144 rows a 3168 / 2976 split).
long chunkStart(long c, long chunks, long rows, long align) {
  return c >= chunks ? rows : rows * c / chunks / align * align;
}

// out[r] = alpha * dot(w row r, x) for r < rows. Each thread owns a contiguous run of row chunks (affinity: in
// steady decode it rereads the same part of w, which may still be in its core's cache) and, done with its own,
// takes chunks from the end of a slower thread's run.
void dotParallel(const GemmKernels& kk, const float* w, long ldw, long rows, const float* x, long k, float* out,
                 float alpha, bool accumulate, int slot) {
  // 64 Ki floats (256 KiB, ~15 us of streaming) is worth waking a worker: the decode projections of a small
  // model (768 x 768, 768 x 256) ran on one thread under the former 1e6 threshold, at half the bandwidth.
  const bool parallel = slot < 0 && threads() > 1 && static_cast<double>(rows) * k >= 65536.0;
  const long chunks = parallel ? chunkCount(rows, k, threads()) : 1;
  parallelFor(chunks, [&](long chunk, int) {
    // 16 rows: no cache line of out is written by two threads
    const long r0 = chunkStart(chunk, chunks, rows, 16), r1 = chunkStart(chunk + 1, chunks, rows, 16);
    if (r1 > r0) kk.dot(w + r0 * ldw, ldw, r1 - r0, x, k, out + r0, alpha, accumulate);
  }, parallel, true);
}

// out[j] = alpha * sum_p x[p] * w[p, j] for j < n: chunks of w's rows stream into the running thread's own (n,)
// partial sum (in cache), then the partials are reduced column block by column block.
void axpyParallel(const GemmKernels& kk, const float* w, long ldw, long k, long n, const float* x, float* out,
                  float alpha, bool accumulate, int slot) {
  const int nt = slot >= 0 || static_cast<double>(n) * k < 1.0e6 ? 1 : threads();
  const long stride = roundUp(n, 16);
  float* parts = scratch(kWork, slot >= 0 ? slot : 0, static_cast<size_t>(stride * nt));
  for (long i = 0; i < stride * nt; i++) parts[i] = 0.0f;
  const long chunks = nt > 1 ? chunkCount(k, n, nt) : 1;
  parallelFor(chunks, [&](long chunk, int tid) {
    const long p0 = chunkStart(chunk, chunks, k, 8), p1 = chunkStart(chunk + 1, chunks, k, 8);  // 8: the row block
    if (p1 > p0) kk.axpy(w + p0 * ldw, ldw, p1 - p0, n, x + p0, parts + tid * stride);
  }, nt > 1, true);
  parallelFor(ceilDiv(n, 1024), [&](long chunk, int) {
    for (long j = chunk * 1024; j < minL(n, (chunk + 1) * 1024); j++) {
      float s = 0.0f;
      for (int u = 0; u < nt; u++) s += parts[u * stride + j];
      out[j] = alpha * s + (accumulate ? out[j] : 0.0f);
    }
  }, nt > 1);
}

}  // namespace

bool gemv(const float* a, const float* b, float* c, long m, long n, long k, bool transA, bool transB, float alpha,
          bool accumulate, int slot) {
  if (k <= 0 || (m != 1 && n != 1)) return false;
  const GemmKernels& kk = kernelsFor(isa());
  if (m == 1) {
    // a is a contiguous k-vector whether or not it is transposed.
    if (transB) dotParallel(kk, b, k, n, a, k, c, alpha, accumulate, slot);
    else axpyParallel(kk, b, n, k, n, a, c, alpha, accumulate, slot);
    return true;
  }
  // n == 1: b is a contiguous k-vector; out (m, 1).
  if (!transA) dotParallel(kk, a, k, m, b, k, c, alpha, accumulate, slot);
  else axpyParallel(kk, a, m, k, m, b, c, alpha, accumulate, slot);
  return true;
}

}  // namespace lwz
