// Exploration harness (session 39, issue #15; not built by the project, not a suite): does arithmetic overlap a
// memory stream, and does it still when each line is also written, with plain or with streaming (non-temporal)
// stores? Per 64-byte line of a 256 MB buffer: one AVX-512 load, X fused multiply-adds spread over 8 independent
// accumulators (throughput-bound, no latency chain), and optionally a store of the line to a second 256 MB buffer.
// Prints nanoseconds per line per thread: X's arithmetic alone on a 32 KB buffer (L1), then from memory read only,
// read + streaming store, read + plain store. Time near max(arithmetic, memory) means the two overlap; near their
// sum, they do not. On the Zen 5 VM (session 39) read-only overlapped (X = 16: 2.6 ns arithmetic, 2.0-2.8 ns read,
// 3.0-3.4 together), plain stores too (4.6), streaming stores did not (8.0-8.2, more than the sum), which is why
// the softmax family and the token log-probs backward write plain stores (native/common.h streamArithmeticOutput).
// Build and run (one shell line):
//   g++ -O3 -march=x86-64-v4 -std=c++17 -pthread -o /tmp/store-overlap
//     benchmarks/kernels/store-overlap/overlap.cpp && /tmp/store-overlap [threads]
// gcc 12's _mm512_reduce_add_ps trips -Wuninitialized inside its own header (as in attention_decode_avx512.cpp)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

enum Store { kNone, kStream, kPlain };

template <int X, Store S>
__attribute__((noinline)) float pass(const float* a, float* o, long lines) {
  __m512 acc[8];
  for (auto& v : acc) v = _mm512_setzero_ps();
  const __m512 c = _mm512_set1_ps(1.0000001f);
  for (long l = 0; l < lines; l++) {
    const __m512 v = _mm512_load_ps(a + l * 16);
    if (X == 0) acc[0] = _mm512_add_ps(acc[0], v);  // the load must be used
#pragma GCC unroll 64
    for (int x = 0; x < X; x++) acc[x & 7] = _mm512_fmadd_ps(acc[x & 7], c, v);
    if (S == kStream) _mm512_stream_ps(o + l * 16, v);
    if (S == kPlain) _mm512_store_ps(o + l * 16, v);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 8; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

volatile float gSink = 0;

// median over `reps` passes of the whole buffers, `nt` threads on disjoint equal parts: ns per line per thread
template <int X, Store S>
double fromMemory(const float* a, float* o, long lines, int nt, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    const double t0 = now();
    std::vector<std::thread> th;
    const long per = lines / nt;
    for (int i = 0; i < nt; i++) th.emplace_back([=] { gSink = gSink + pass<X, S>(a + i * per * 16, o + i * per * 16, per); });
    for (auto& x : th) x.join();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2] / static_cast<double>(lines) * 1e9 * nt;
}

// best of 20 rounds of 2000 passes over 512 lines (32 KB, L1): ns per line
template <int X>
double inL1(const float* a, float* o) {
  double best = 1e9;
  for (int r = 0; r < 20; r++) {
    const double t0 = now();
    for (int k = 0; k < 2000; k++) gSink = gSink + pass<X, kNone>(a, o, 512);
    best = std::min(best, (now() - t0) / (2000.0 * 512) * 1e9);
  }
  return best;
}

template <int X>
void row(const float* a, float* o, long lines, int nt) {
  std::printf("%-3d %8.2f %10.2f %14.2f %14.2f\n", X, inL1<X>(a, o), fromMemory<X, kNone>(a, o, lines, nt, 5),
              fromMemory<X, kStream>(a, o, lines, nt, 5), fromMemory<X, kPlain>(a, o, lines, nt, 5));
}

}  // namespace

int main(int argc, char** argv) {
  const int nt = argc > 1 ? std::atoi(argv[1]) : 1;
  const long bytes = 256L << 20, lines = bytes / 64;
  float* a = static_cast<float*>(std::aligned_alloc(2 << 20, bytes));
  float* o = static_cast<float*>(std::aligned_alloc(2 << 20, bytes));
  if (!a || !o) return 1;
  madvise(a, bytes, MADV_HUGEPAGE);
  madvise(o, bytes, MADV_HUGEPAGE);
  for (long i = 0; i < bytes / 4; i++) a[i] = 1e-3f * static_cast<float>(i % 1000), o[i] = 0.0f;
  std::printf("%d thread(s), ns per 64-byte line per thread\n", nt);
  std::printf("X   in L1     read     read+stream     read+plain\n");
  row<0>(a, o, lines, nt);
  row<8>(a, o, lines, nt);
  row<16>(a, o, lines, nt);
  row<24>(a, o, lines, nt);
  row<32>(a, o, lines, nt);
  row<48>(a, o, lines, nt);
  row<64>(a, o, lines, nt);
  std::free(a);
  std::free(o);
  return 0;
}
