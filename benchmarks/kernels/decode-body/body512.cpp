// Exploration harness (issue #10; not built by the project, not a suite): the AVX-512 decode attention body
// (libs/kernels/native/attention_decode_avx512.cpp, compiled in from its source with the addon's flags) on one
// thread, one kv head, keys already in cache (S keys of K and V: 256 keys are 128 KiB, 1024 keys 512 KiB), so its
// time is arithmetic and cache, not memory: nanoseconds per key beside the FMA bound. Qwen2.5-0.5B's group (7 query
// rows per kv head, D 64) does 7 * 64 * 2 = 896 multiply-adds per key, 56 16-lane FMAs: 28 cycles at two a cycle.
// The AVX2 twin is body.cpp; from memory, mem.cpp.
// Build and run (one shell line):
//   g++ -O3 -fno-math-errno -fno-trapping-math -falign-loops=64 -std=gnu++17 -I libs/kernels/native
//     -o /tmp/decode-body512 benchmarks/kernels/decode-body/body512.cpp && /tmp/decode-body512 [S] [calls] [GHz]
// The machine is a VM whose speed comes and goes: the best of many rounds is printed; compare variants in
// alternation.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "attention_decode_avx512.cpp"

int main(int argc, char** argv) {
  using namespace lwz;
  const long S = argc > 1 ? std::atol(argv[1]) : 1024, calls = argc > 2 ? std::atol(argv[2]) : 1000;
  const double ghz = argc > 3 ? std::atof(argv[3]) : 3.2;
  const long H = 7, HKV = 1, D = 64;
  if (!__builtin_cpu_supports("avx512f")) {
    std::fprintf(stderr, "decode-body512: this CPU lacks AVX-512\n");
    return 1;
  }
  std::vector<float> q(H * D), k(S * D), v(S * D), out(H * D), lse(H), work(H * (D + kDecodeSpan + 1)), o(H * D), m(H), l(H);
  for (long i = 0; i < S * D; i++) {
    k[i] = 0.1f * std::sin(0.37f * i);
    v[i] = std::cos(0.11f * i);
  }
  for (long i = 0; i < H * D; i++) q[i] = std::sin(3.0f * i);
  int32_t qOffset = static_cast<int32_t>(S - 1), kvStart = 0;
  AttnDims a{1, 1, S, H, HKV, D, 0.125f, &qOffset, &kvStart};
  a.setKvLayout(true);
  const FwdIo io{q.data(), k.data(), v.data(), out.data(), lse.data()};
  double best = 1e30;
  for (int round = 0; round < 25; round++) {
    const auto t0 = std::chrono::steady_clock::now();
    // one call over all S keys (its spans of kDecodeSpan in turn), nothing requested ahead: the data is in cache
    for (long c = 0; c < calls; c++) decodeRangeAvx512(a, io, 0, 0, 0, S, 0, 0, o.data(), m.data(), l.data(), work.data(), c == 0);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / calls / S;
    best = ns < best ? ns : best;
  }
  float check = 0.0f;
  for (float x : o) check += x;
  std::printf("S %ld, G 7, D 64, AVX-512: %.2f ns per key (best of 25 rounds of %ld calls) = %.0f cycles at %.2f GHz; 28 at two FMAs a cycle [check %g]\n",
              S, best, calls, best * ghz, ghz, check);
  return 0;
}
