// Exploration harness (session 30, issue #15; not built by the project, not a suite): the log-softmax row passes
// (libs/kernels/native/rowpass_avx2.cpp, or with -DLWZ_BODY_AVX512 rowpass_avx512.cpp, compiled in from their
// source with the addon's flags) on one thread over a few 4096-value rows that sit in L2, so the time is the
// passes' arithmetic, not memory: nanoseconds per value for the log-sum-exp scan alone (`lse`) and for the scan
// with the previous row's write beside it (`lseShift`, what log-softmax runs per row). Beside the suite's ratio
// to the copy (which mixes arithmetic and memory) this tells whether a row pass is bound by its instructions:
// if the in-L2 time is near the from-memory time, no memory change will help. Build and run (one shell line):
//   g++ -O3 -fno-math-errno -fno-trapping-math -falign-loops=64 -std=gnu++17 -I libs/kernels/native
//     -o /tmp/rowpass-lse benchmarks/kernels/rowpass-body/lse.cpp && taskset -c 1 /tmp/rowpass-lse [rows]
// Variants: copy rowpass_avx2.cpp (and the headers it includes) to a scratch folder, edit, and build with -I on
// that folder first. The machine is a VM whose speed comes and goes: the best of 200 rounds is printed; compare
// variants in alternation.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#ifdef LWZ_BODY_AVX512
#include "rowpass_avx512.cpp"
#define LWZ_PASSES rowPassesAvx512
constexpr const char* kIsa = "avx512f";
#else
#include "rowpass_avx2.cpp"
#define LWZ_PASSES rowPassesAvx2
constexpr const char* kIsa = "avx2";
#endif

int main(int argc, char** argv) {
  using namespace lwz;
  const long v = 4096, rows = argc > 1 ? std::atol(argv[1]) : 4;  // 4 rows: 64 KiB in, 64 KiB out
  if (rows < 2) {
    std::fprintf(stderr, "rowpass-lse: rows must be at least 2\n");
    return 1;
  }
  if (!__builtin_cpu_supports(kIsa) || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "rowpass-lse: this CPU lacks %s+FMA\n", kIsa);
    return 1;
  }
  // cache-line aligned, as the addon's tensors; values in [-1, 1) from an LCG
  float* x = static_cast<float*>(std::aligned_alloc(64, rows * v * sizeof(float)));
  float* o = static_cast<float*>(std::aligned_alloc(64, rows * v * sizeof(float)));
  unsigned s = 1;
  for (long i = 0; i < rows * v; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = static_cast<float>(s >> 8) / 8388608.0f - 1.0f;
  }
  const RowPasses& p = LWZ_PASSES();
  double scan = 1e30, shift = 1e30, check = 0.0;
  for (int round = 0; round < 200; round++) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < rows; r++) check += p.lse(x + r * v, v);
    const auto t1 = std::chrono::steady_clock::now();
    for (long r = 1; r < rows; r++) check += p.lseShift(x + r * v, v, x + (r - 1) * v, o + (r - 1) * v, 1.0f, 1e-7f, false);
    const auto t2 = std::chrono::steady_clock::now();
    scan = std::min(scan, std::chrono::duration<double, std::nano>(t1 - t0).count() / (rows * v));
    shift = std::min(shift, std::chrono::duration<double, std::nano>(t2 - t1).count() / ((rows - 1) * v));
  }
  std::printf("%s, %ld rows of %ld: lse %.4f ns a value, lseShift %.4f ns a value (best of 200 rounds) [check %g]\n", kIsa, rows, v, scan,
              shift, check);
  std::free(x);
  std::free(o);
  return 0;
}
