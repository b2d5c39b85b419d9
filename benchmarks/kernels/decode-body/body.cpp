// Exploration harness (sessions 16 and 20, issue #10; not built by the project, not a suite): a decode attention body
// (libs/kernels/native/attention_decode_avx2.cpp, or with -DLWZ_BODY_AVX512 attention_decode_avx512.cpp, compiled in
// from its source with the addon's flags) on one thread, one kv head, keys already in cache (S keys of K and V; 256
// keys are 128 KiB, 1024 keys 512 KiB), so its time is arithmetic and cache, not memory: nanoseconds per key, beside
// the same work's FMA count. Qwen2.5-0.5B's group (7 query rows per kv head, D 64) does 7 * 64 * 2 = 896
// multiply-adds per key: 112 8-lane FMAs, 56 cycles at two a cycle (AVX2), or 56 16-lane ones, 28 cycles (AVX-512).
// From memory: mem.cpp. Build and run (one shell line; add -DLWZ_BODY_AVX512 for the AVX-512 body):
//   g++ -O3 -fno-math-errno -fno-trapping-math -falign-loops=64 -std=gnu++17 -I libs/kernels/native
//     -o /tmp/decode-body benchmarks/kernels/decode-body/body.cpp && taskset -c 1 /tmp/decode-body [S] [calls] [GHz]
// The machine is a VM whose speed comes and goes: the best of many rounds is printed, and a run repeated minutes
// later can differ by 15-30 %; compare variants in alternation.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#ifdef LWZ_BODY_AVX512
#include "attention_decode_avx512.cpp"
#define LWZ_BODY decodeRangeAvx512
constexpr const char* kIsa = "avx512f";
constexpr int kFmaBound = 28;
#else
#include "attention_decode_avx2.cpp"
#define LWZ_BODY decodeRangeAvx2
constexpr const char* kIsa = "avx2";
constexpr int kFmaBound = 56;
#endif

int main(int argc, char** argv) {
  using namespace lwz;
  const long S = argc > 1 ? std::atol(argv[1]) : 256, calls = argc > 2 ? std::atol(argv[2]) : 2000;
  const double ghz = argc > 3 ? std::atof(argv[3]) : 2.9;
  const long H = 7, HKV = 1, D = 64;
  if (!__builtin_cpu_supports(kIsa) || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "decode-body: this CPU lacks %s+FMA\n", kIsa);
    return 1;
  }
  // K and V start on a cache line, as the addon's tensors and so every KV cache row do. Until session 27 they were
  // std::vectors (16-byte aligned by malloc), so every 64-byte load of a key or value row straddled two lines: the
  // AVX-512 body at 1024 keys read 19.3-19.6 ns a key that way against 12.7-13.3 aligned, same run, Zen 5
  // (benchmarks/README.md, "2026-12-01 04:56").
  const auto lineAligned = [](long n) { return static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64)); };
  float *const k = lineAligned(S * D), *const v = lineAligned(S * D);
  std::vector<float> q(H * D), out(H * D), lse(H), work(H * (D + kDecodeSpan + 1)), o(H * D), m(H), l(H);
  for (long i = 0; i < S * D; i++) {
    k[i] = 0.1f * std::sin(0.37f * i);
    v[i] = std::cos(0.11f * i);
  }
  for (long i = 0; i < H * D; i++) q[i] = std::sin(3.0f * i);
  int32_t qOffset = static_cast<int32_t>(S - 1), kvStart = 0;
  AttnDims a{1, 1, S, H, HKV, D, 0.125f, &qOffset, &kvStart};
  a.setKvLayout(true);
  const FwdIo io{q.data(), k, v, out.data(), lse.data()};
  double best = 1e30;
  for (int round = 0; round < 25; round++) {
    const auto t0 = std::chrono::steady_clock::now();
    // fresh only on the first call: a fresh range also requests its first span's value rows (4 prefetches a key
    // here, where the whole range is one span), which the kernel does once per range, not once per span
    for (long c = 0; c < calls; c++) LWZ_BODY(a, io, 0, 0, 0, S, 0, 0, o.data(), m.data(), l.data(), work.data(), round == 0 && c == 0);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / calls / S;
    best = ns < best ? ns : best;
  }
  float check = 0.0f;
  for (float x : o) check += x;
  std::printf("S %ld, G 7, D 64, %s: %.2f ns per key (best of 25 rounds of %ld calls) = %.0f cycles at %.2f GHz; %d at two FMAs a cycle [check %g]\n",
              S, kIsa, best, calls, best * ghz, ghz, kFmaBound, check);
  std::free(k);
  std::free(v);
  return 0;
}
