// The lab's timing section (--bench): GEMM engines (own tensor-core kernel vs cuBLASLt) on square and Qwen2.5
// shapes, flash attention forward / backward on Qwen2.5-0.5B and 7B-like heads at T = 4096, and split-K decode
// over a 4096-token cache at batch 1 / 32 / 128. Wall clock around synchronised loops after a warm-up call.
// The comparisons with PyTorch live in tools/gpu-check/bench.py (this binary has no PyTorch).
#include <chrono>
#include <functional>
#include <string>

#include "cases.h"

namespace lab {
namespace {

double seconds(const std::function<void()>& fn, int iters) {
  fn();
  check(lwz_synchronize(), "sync");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; i++) fn();
  check(lwz_synchronize(), "sync");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

void gemm() {
  struct S {
    const char* what;
    int64_t m, n, k;
  };
  for (const S& s : {S{"square", 4096, 4096, 4096}, S{"x W_up^T (T 4096, C 896, F 4864)", 4096, 4864, 896},
                     S{"x W_down^T (F 4864 -> C 896)", 4096, 896, 4864}, S{"lm head chunk (1024 x 151936 x 896)", 1024, 151936, 896}}) {
    for (int dt : {LWZ_BF16, LWZ_F32}) {
      Buf a(s.m * s.k, dt), b(s.n * s.k, dt), o(s.m * s.n, dt);
      for (const char* engine : {"cublaslt", "own"}) {
        if (std::string(engine) == "cublaslt" && !cublasLoaded()) continue;
        check(lwz_set_option("gemm", engine), "gemm option");
        const double t = seconds([&] { check(lwz_matmul(a.p, dt, b.p, dt, o.p, dt, 1, s.m, s.n, s.k, 1, 0, 1, 1.f, 0), "matmul"); }, 10);
        std::printf("bench gemm %-40s %-4s %-8s %8.3f ms %7.1f TFLOP/s\n", s.what, dtName(dt), engine, t * 1e3,
                    2.0 * s.m * s.n * s.k / t / 1e12);
      }
    }
  }
  check(lwz_set_option("gemm", "auto"), "gemm option");
}

struct AttnBench {
  const char* what;
  int b, t, h, hkv, d;
};

void attentionCase(const AttnBench& s, const char* impl, int dt) {
  check(lwz_set_option("attention", impl), "attention option");
  const int64_t nq = int64_t(s.b) * s.t * s.h * s.d, nk = int64_t(s.b) * s.t * s.hkv * s.d;
  Buf q(nq, dt), k(nk, dt), v(nk, dt), o(nq, dt), l(int64_t(s.b) * s.h * s.t, LWZ_F32), qo(s.b, LWZ_I32), ks(s.b, LWZ_I32), d(nq, dt), dq(nq, dt),
      dk(nk, dt), dv(nk, dt);
  Rng rng(7);
  q.set(randn(rng, nq, dt));
  k.set(randn(rng, nk, dt));
  v.set(randn(rng, nk, dt));
  d.set(randn(rng, nq, dt));
  const float scale = 1.f / std::sqrt(float(s.d));
  const double flops = 4.0 * s.b * s.h * double(s.t) * s.t * s.d / 2;  // causal forward
  const double tf = seconds(
      [&] {
        check(lwz_attention_forward(q.p, k.p, v.p, qo.ptr<int32_t>(), ks.ptr<int32_t>(), o.p, l.ptr<float>(), dt, s.b, s.t, s.t, s.h, s.hkv,
                                    s.d, scale, 0),
              "attention");
      },
      5);
  const double tb = seconds(
      [&] {
        check(lwz_attention_backward(q.p, k.p, v.p, qo.ptr<int32_t>(), ks.ptr<int32_t>(), o.p, l.ptr<float>(), d.p, dq.p, dk.p, dv.p, dt, s.b,
                                     s.t, s.t, s.h, s.hkv, s.d, scale),
              "attentionBackward");
      },
      5);
  std::printf("bench attention[%s] %-20s B%d T%d H%d/%d D%d %-4s forward %7.3f ms %6.1f TFLOP/s, backward %7.3f ms %6.1f TFLOP/s\n",
              impl, s.what, s.b, s.t, s.h, s.hkv, s.d, dtName(dt), tf * 1e3, flops / tf / 1e12, tb * 1e3, 2.5 * flops / tb / 1e12);
}

void attention() {
  for (const AttnBench& s : {AttnBench{"Qwen2.5-0.5B heads", 1, 4096, 14, 2, 64}, AttnBench{"7B-like heads", 1, 4096, 28, 4, 128}}) {
    for (const char* impl : {"flash", "wmma"}) {
      for (int dt : {LWZ_BF16, LWZ_F32}) attentionCase(s, impl, dt);
    }
  }
  check(lwz_set_option("attention", "auto"), "attention option");
}

void decode() {
  const int s = 4096, h = 14, hkv = 2, d = 64;
  for (int b : {1, 32, 128}) {
    const int dt = LWZ_BF16;
    const int64_t nq = int64_t(b) * h * d, nk = int64_t(b) * s * hkv * d;
    Buf q(nq, dt), k(nk, dt), v(nk, dt), o(nq, dt), l(int64_t(b) * h, LWZ_F32), qo(b, LWZ_I32), ks(b, LWZ_I32);
    Vec off(size_t(b), double(s - 1));
    qo.set(off);
    const double t = seconds(
        [&] {
          check(lwz_attention_forward(q.p, k.p, v.p, qo.ptr<int32_t>(), ks.ptr<int32_t>(), o.p, l.ptr<float>(), dt, b, 1, s, h, hkv, d,
                                      0.125f, 1),  // the model's head-major (B, Hkv, S, D) cache
                "decode attention");
        },
        20);
    std::printf("bench decode attention (split-K) B%-3d S%d H%d/%d D%d bf16: %7.3f ms per layer-step, %6.0f GB/s of K/V\n", b, s, h, hkv, d,
                t * 1e3, 2.0 * nk * 2 / t / 1e9);
  }
}

}  // namespace

void runTimings() {
  gemm();
  attention();
  decode();
}

}  // namespace lab
