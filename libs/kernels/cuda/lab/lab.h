// The CUDA lab's harness (llm.c dev/cuda style): seeded random inputs, device buffers in f32 / bf16 / i32
// storage over the C API, and the comparison that prints max diff, mean diff and the first mismatching
// indices. Tolerance = atol + rtol |ref|. Storage rounding is applied to the inputs before the CPU reference
// sees them, so a bf16 case checks the kernel's math, not the rounding of its inputs.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lwz_cuda.h"

namespace lab {

using Vec = std::vector<double>;

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {
    const double u = uniform() + 1e-300, v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }
  int below(int n) { return int(next() % uint64_t(n)); }
};

inline uint16_t toBf16Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // NaN stays NaN
  x += 0x7fffu + ((x >> 16) & 1u);                                           // round to nearest even
  return uint16_t(x >> 16);
}

inline float fromBf16Bits(uint16_t b) {
  const uint32_t x = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

/** The value a float becomes in storage `dt`. */
inline double stored(double v, int dt) { return dt == LWZ_BF16 ? fromBf16Bits(toBf16Bits(float(v))) : double(float(v)); }

inline const char* dtName(int dt) { return dt == LWZ_BF16 ? "bf16" : "f32"; }

/** Aborts the lab with the C API's message (a failed call is a failed lab, not a mismatch). */
inline void check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "FATAL %s: %s\n", what, lwz_last_error());
    std::exit(2);
  }
}

/** A device buffer of n values in storage dt (LWZ_F32, LWZ_BF16 or LWZ_I32). */
struct Buf {
  void* p = nullptr;
  int64_t n = 0;
  int dt = LWZ_F32;
  Buf(int64_t count, int dtype) : n(count), dt(dtype) {
    p = lwz_alloc(size_t(n > 0 ? n : 1) * bytesPer());
    if (!p) check(-1, "alloc");
    check(lwz_memset_zero(p, size_t(n > 0 ? n : 1) * bytesPer()), "memset");
  }
  ~Buf() { lwz_free(p); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  size_t bytesPer() const { return dt == LWZ_BF16 ? 2 : 4; }
  void set(const Vec& v) {
    if (dt == LWZ_BF16) {
      std::vector<uint16_t> h(v.size());
      for (size_t i = 0; i < v.size(); i++) h[i] = toBf16Bits(float(v[i]));
      check(lwz_upload(p, h.data(), h.size() * 2), "upload");
    } else if (dt == LWZ_F32) {
      std::vector<float> h(v.begin(), v.end());
      check(lwz_upload(p, h.data(), h.size() * 4), "upload");
    } else {
      std::vector<int32_t> h(v.size());
      for (size_t i = 0; i < v.size(); i++) h[i] = int32_t(v[i]);
      check(lwz_upload(p, h.data(), h.size() * 4), "upload");
    }
  }
  Vec get() const {
    Vec out(static_cast<size_t>(n));
    if (dt == LWZ_BF16) {
      std::vector<uint16_t> h(out.size());
      check(lwz_download(h.data(), p, h.size() * 2), "download");
      for (size_t i = 0; i < h.size(); i++) out[i] = fromBf16Bits(h[i]);
    } else if (dt == LWZ_F32) {
      std::vector<float> h(out.size());
      check(lwz_download(h.data(), p, h.size() * 4), "download");
      for (size_t i = 0; i < h.size(); i++) out[i] = h[i];
    } else {
      std::vector<int32_t> h(out.size());
      check(lwz_download(h.data(), p, h.size() * 4), "download");
      for (size_t i = 0; i < h.size(); i++) out[i] = h[i];
    }
    return out;
  }
  template <typename T = void>
  T* ptr() const {
    return static_cast<T*>(p);
  }
};

/** Random normal values (scaled), already rounded to storage dt so the reference sees what the GPU sees. */
inline Vec randn(Rng& rng, int64_t n, int dt, double scale = 1.0) {
  Vec v(static_cast<size_t>(n));
  for (auto& x : v) x = stored(rng.normal() * scale, dt);
  return v;
}

struct Tally {
  int passed = 0, failed = 0;
  std::vector<std::string> failures;
};

inline Tally& tally() {
  static Tally t;
  return t;
}

/** Compares got against want under atol + rtol |want|; infinities must match exactly; prints one line. */
inline bool compare(const std::string& name, const Vec& got, const Vec& want, double atol, double rtol) {
  double maxDiff = 0, sumDiff = 0;
  std::vector<size_t> bad;
  if (got.size() != want.size()) {
    std::printf("FAIL %s: %zu values, expected %zu\n", name.c_str(), got.size(), want.size());
    tally().failed++;
    tally().failures.push_back(name);
    return false;
  }
  for (size_t i = 0; i < got.size(); i++) {
    const double g = got[i], w = want[i];
    bool ok;
    double diff = 0;
    if (std::isinf(w) || std::isinf(g)) {
      ok = g == w;
    } else if (std::isnan(w)) {
      ok = std::isnan(g);
    } else {
      diff = std::fabs(g - w);
      ok = diff <= atol + rtol * std::fabs(w);
    }
    if (!std::isnan(diff)) {
      maxDiff = std::fmax(maxDiff, diff);
      sumDiff += diff;
    }
    if (!ok || std::isnan(diff)) bad.push_back(i);
  }
  const double mean = got.empty() ? 0 : sumDiff / double(got.size());
  if (bad.empty()) {
    std::printf("ok   %-72s max diff %.3g, mean diff %.3g\n", name.c_str(), maxDiff, mean);
    tally().passed++;
    return true;
  }
  std::printf("FAIL %-72s max diff %.3g, mean diff %.3g, %zu of %zu outside atol %g rtol %g; first:", name.c_str(), maxDiff, mean,
              bad.size(), got.size(), atol, rtol);
  for (size_t k = 0; k < bad.size() && k < 5; k++) std::printf(" [%zu] got %.6g want %.6g;", bad[k], got[bad[k]], want[bad[k]]);
  std::printf("\n");
  tally().failed++;
  tally().failures.push_back(name);
  return false;
}

/** Tolerances per family and storage (bf16 storage rounds every output to 8 mantissa bits). */
struct Tol {
  double atol, rtol;
};
inline Tol tol(const char* family, int dt) {
  const bool b = dt == LWZ_BF16;
  if (!std::strcmp(family, "exact")) return {0, 0};
  if (!std::strcmp(family, "elementwise")) return b ? Tol{1e-2, 1e-2} : Tol{1e-6, 1e-6};
  if (!std::strcmp(family, "matmul")) return b ? Tol{5e-2, 2e-2} : Tol{5e-2, 2e-2};  // bf16 products either way
  if (!std::strcmp(family, "reduce")) return b ? Tol{5e-2, 2e-2} : Tol{1e-5, 1e-5};
  if (!std::strcmp(family, "norm")) return b ? Tol{3e-2, 2e-2} : Tol{1e-5, 1e-4};
  if (!std::strcmp(family, "rope")) return b ? Tol{2e-2, 2e-2} : Tol{1e-5, 1e-4};
  if (!std::strcmp(family, "exp")) return b ? Tol{1e-2, 2e-2} : Tol{1e-6, 1e-5};
  if (!std::strcmp(family, "logprobs")) return b ? Tol{5e-2, 2e-2} : Tol{2e-5, 1e-5};
  if (!std::strcmp(family, "attention")) return Tol{3e-2, 3e-2};  // bf16 tensor cores either way
  if (!std::strcmp(family, "attentionBackward")) return Tol{5e-2, 5e-2};
  if (!std::strcmp(family, "adamw")) return Tol{1e-6, 1e-5};
  return {0, 0};
}

}  // namespace lab
