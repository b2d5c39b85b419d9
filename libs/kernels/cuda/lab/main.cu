// lwz-cuda-lab: the CUDA backend's standalone check (llm.c dev/cuda style). Validates every kernel of the C API
// against float64 CPU references (f32 and bf16 storage, each attention version and both GEMM engines), then,
// with --bench, times GEMM engines, flash attention and split-K decoding. Exit status 1 when any case fails.
//   usage: lwz-cuda-lab [--quick] [--bench] [--only linear|attention|rows]
#include <chrono>
#include <string>

#include "cases.h"

int main(int argc, char** argv) {
  bool quick = false, bench = false;
  std::string only;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--bench") bench = true;
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: lwz-cuda-lab [--quick] [--bench] [--only linear|attention|rows]\n");
      return 2;
    }
  }
  if (lwz_init(0) != 0) {
    std::fprintf(stderr, "lwz-cuda-lab: the CUDA backend cannot start: %s\n", lwz_last_error());
    return 2;
  }
  std::printf("device: %s\n", lwz_describe());
  std::printf("attention: %s\n", lwz_attention_status());
  const auto t0 = std::chrono::steady_clock::now();
  lab::Rng rng(1234);
  if (only.empty() || only == "linear") lab::runLinearCases(rng, quick);
  if (only.empty() || only == "attention") lab::runAttentionCases(rng, quick);
  if (only.empty() || only == "rows") lab::runRowCases(rng, quick);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const lab::Tally& t = lab::tally();
  std::printf("conformance: %d passed, %d failed (%.1f s)\n", t.passed, t.failed, secs);
  for (const auto& f : t.failures) std::printf("  failed: %s\n", f.c_str());
  if (bench) lab::runTimings();
  return t.failed == 0 ? 0 : 1;
}
