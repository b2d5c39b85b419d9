// Exploration harness (issue #10; not built by the project, not a suite): the AVX-512 decode attention body
// (libs/kernels/native/attention_decode_avx512.cpp, compiled in from its source) reading its KV cache from memory,
// against a plain read of the same bytes. T threads, each with its own kv head (Qwen2.5-0.5B's group: 7 query rows,
// D 64) over L layers of S keys, head-major, on transparent huge pages; each thread walks a layer's keys in chunks
// of kDecodeSpan, requesting the next chunk meanwhile, as decodeForward does at batch 1 with one kv head per
// thread. The read sums the same K and V arrays with AVX-512 loads at the same thread count. Nanoseconds per key per
// thread, medians of 9 rounds, and the per-round ratio read / attention (#10's target: >= 0.7). The in-cache twin
// is body.cpp (built with -DLWZ_BODY_AVX512).
// Build and run (one shell line):
//   g++ -O3 -fno-math-errno -fno-trapping-math -falign-loops=64 -std=gnu++17 -pthread -I libs/kernels/native
//     -o /tmp/decode-mem benchmarks/kernels/decode-body/mem.cpp && /tmp/decode-mem [S] [L] [T]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "attention_decode_avx512.cpp"

namespace {

__attribute__((target("avx512f"))) float readAll(const float* p, long n) {
  __m512 a[8];
  for (int u = 0; u < 8; u++) a[u] = _mm512_setzero_ps();
  for (long i = 0; i < n; i += 128)
    for (int u = 0; u < 8; u++) a[u] = _mm512_add_ps(a[u], _mm512_loadu_ps(p + i + 16 * u));
  for (int u = 1; u < 8; u++) a[0] = _mm512_add_ps(a[0], a[u]);
  return _mm512_reduce_add_ps(a[0]);
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lwz;
  const long S = argc > 1 ? std::atol(argv[1]) : 16384, L = argc > 2 ? std::atol(argv[2]) : 12;
  const int T = argc > 3 ? std::atoi(argv[3]) : 2;
  const long D = 64, H = 7, span = kDecodeSpan;
  if (!__builtin_cpu_supports("avx512f") || S % span != 0) {
    std::fprintf(stderr, "decode-mem: needs AVX-512 and S a multiple of %ld\n", span);
    return 1;
  }
  const size_t floats = static_cast<size_t>(S) * L * D, huge = 2 << 20;
  const size_t bytes = (floats * sizeof(float) + huge - 1) / huge * huge;  // aligned_alloc wants a multiple of its alignment
  std::vector<float*> ks(T), vs(T);
  for (int t = 0; t < T; t++) {
    ks[t] = static_cast<float*>(std::aligned_alloc(huge, bytes));
    vs[t] = static_cast<float*>(std::aligned_alloc(huge, bytes));
    madvise(ks[t], bytes, MADV_HUGEPAGE);
    madvise(vs[t], bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < floats; i++) {
      ks[t][i] = 0.1f * std::sin(0.37f * i + t);
      vs[t][i] = std::cos(0.11f * i);
    }
  }
  int32_t qOffset = static_cast<int32_t>(S - 1), kvStart = 0;
  AttnDims a{1, 1, S, H, 1, D, 0.125f, &qOffset, &kvStart};
  a.setKvLayout(true);
  std::vector<float> sinks(64 * T);
  const auto attend = [&](int t) {
    std::vector<float> q(H * D), out(H * D), lse(H), work(H * (D + span + 1)), o(H * D), m(H), l(H);
    for (long i = 0; i < H * D; i++) q[i] = std::sin(3.0f * i);
    for (long layer = 0; layer < L; layer++) {
      const FwdIo io{q.data(), ks[t] + layer * S * D, vs[t] + layer * S * D, out.data(), lse.data()};
      for (long c0 = 0; c0 < S; c0 += span) {
        const long next = c0 + span < S ? span : 0;
        decodeRangeAvx512(a, io, 0, 0, c0, c0 + span, (c0 + span) * D, next * D, o.data(), m.data(), l.data(), work.data(), c0 == 0);
      }
      sinks[64 * t] += o[0];
    }
  };
  const auto read = [&](int t) {
    for (long layer = 0; layer < L; layer++) sinks[64 * t + 1] += readAll(ks[t] + layer * S * D, S * D) + readAll(vs[t] + layer * S * D, S * D);
  };
  const auto onThreads = [&](auto f) {
    std::vector<std::thread> th;
    for (int t = 0; t < T; t++) th.emplace_back(f, t);
    for (auto& h : th) h.join();
  };
  std::vector<double> att, rd, ratio;
  for (int round = 0; round < 9; round++) {
    auto t0 = std::chrono::steady_clock::now();
    onThreads(attend);
    att.push_back(since(t0) / (S * L));
    t0 = std::chrono::steady_clock::now();
    onThreads(read);
    rd.push_back(since(t0) / (S * L));
    ratio.push_back(rd.back() / att.back());
  }
  std::sort(att.begin(), att.end());
  std::sort(rd.begin(), rd.end());
  std::sort(ratio.begin(), ratio.end());
  std::printf("S %ld, L %ld, %d threads: attention %.2f ns per key per thread, read %.2f; read / attention %.3f (rounds %.3f-%.3f) [check %g]\n",
              S, L, T, att[4], rd[4], ratio[4], ratio[0], ratio[8], sinks[0]);
  return 0;
}
