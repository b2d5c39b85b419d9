// Exploration harness (session 30, issue #15; not built by the project, not a suite): the row passes of the
// log-softmax and the RMSNorm backward (libs/kernels/native/rowpass_avx2.cpp, or with -DLWZ_BODY_AVX512
// rowpass_avx512.cpp, compiled in from their source with the addon's flags) on one thread over a few rows that
// sit in L2, so the time is the passes' instructions, not memory: nanoseconds per value for the log-sum-exp scan
// alone (`lse`), the scan with the previous row's write beside it (`lseShift`, what log-softmax runs per row), and
// the RMSNorm backward of a row with its dw terms (`rmsBwd`, plain stores). Beside the memory-bound suite's ratio
// to the copy (which mixes arithmetic and memory) this tells whether a pass is bound by its instructions: compare
// the in-L2 time with the time the copy takes from memory for the same bytes (8 a value for the log-softmax, 12
// for the RMSNorm backward). Build and run (one shell line):
//   g++ -O3 -fno-math-errno -fno-trapping-math -falign-loops=64 -std=gnu++17 -I libs/kernels/native
//     -o /tmp/rowpass-body benchmarks/kernels/rowpass-body/body.cpp && taskset -c 1 /tmp/rowpass-body [rows]
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
  // 4 rows: 64 KiB in, 64 KiB out for the log-softmax; dy, x and dx of 4 rows of 1024 (48 KiB) for the backward
  const long v = 4096, c = 1024, rows = argc > 1 ? std::atol(argv[1]) : 4;
  if (rows < 2) {
    std::fprintf(stderr, "rowpass-body: rows must be at least 2\n");
    return 1;
  }
  if (!__builtin_cpu_supports(kIsa) || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "rowpass-body: this CPU lacks %s+FMA\n", kIsa);
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
  float* w = static_cast<float*>(std::aligned_alloc(64, c * sizeof(float)));
  float* blk = static_cast<float*>(std::aligned_alloc(64, c * sizeof(float)));
  for (long j = 0; j < c; j++) w[j] = 1.0f + 0.001f * static_cast<float>(j % 7), blk[j] = 0.0f;
  const RowPasses& p = LWZ_PASSES();
  double scan = 1e30, shift = 1e30, bwd = 1e30, check = 0.0;
  for (int round = 0; round < 200; round++) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < rows; r++) check += p.lse(x + r * v, v);
    const auto t1 = std::chrono::steady_clock::now();
    for (long r = 1; r < rows; r++) check += p.lseShift(x + r * v, v, x + (r - 1) * v, o + (r - 1) * v, 1.0f, 1e-7f, false);
    const auto t2 = std::chrono::steady_clock::now();
    // dy = the first rows of x, x = the next ones, dx = o (all in L2)
    for (long r = 0; r < rows; r++) p.rmsnormBackward(x + r * c, x + (rows + r) * c, w, 0.9f, o + r * c, blk, c, false);
    const auto t3 = std::chrono::steady_clock::now();
    bwd = std::min(bwd, std::chrono::duration<double, std::nano>(t3 - t2).count() / (rows * c));
    scan = std::min(scan, std::chrono::duration<double, std::nano>(t1 - t0).count() / (rows * v));
    shift = std::min(shift, std::chrono::duration<double, std::nano>(t2 - t1).count() / ((rows - 1) * v));
  }
  check += blk[0] + o[0];
  std::printf("%s, %ld rows: lse %.4f, lseShift %.4f (rows of %ld), rmsBwd %.4f (rows of %ld) ns a value (best of 200 rounds) [check %g]\n",
              kIsa, rows, scan, shift, v, bwd, c, check);
  std::free(x);
  std::free(o);
  std::free(w);
  std::free(blk);
  return 0;
}
