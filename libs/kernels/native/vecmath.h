// Branch-free float math that the compiler can vectorise (std::exp cannot be, without -ffast-math), reductions
// split into interleaved partial sums (a single running sum is a serial dependency the compiler may not
// reorder), and the attribute that compiles a loop-heavy kernel three times (AVX-512, AVX2+FMA, baseline)
// with the best one picked at load by the dynamic linker. Accuracy: fastExp is within ~2 ulp of expf.
#pragma once
#include <cstdint>

#define LWZ_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace lwz {

/** e^x; 0 for x below -87 (including -inf), clamped near FLT_MAX above 88. Cephes-style polynomial. */
[[gnu::always_inline]] inline float fastExp(float x) {
  const float cx = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  // round to nearest by the 1.5 * 2^23 trick (|cx * log2 e| < 2^22): no floor call, vectorises on every ISA
  const float t = cx * 1.44269504088896341f;
  const float fn = (t + 12582912.0f) - 12582912.0f;
  const float r = cx - fn * 0.693359375f + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(fn) + 127) << 23;
  const float scale = __builtin_bit_cast(float, bits);
  return x < -87.0f ? 0.0f : y * scale;
}

/**
 * Prefetch [p, p + n) floats, one cache line per 16: issued while finishing one row so the next row (often
 * the next 4 KiB page, where hardware stream prefetchers stop) is already on its way.
 */
[[gnu::always_inline]] inline void prefetchRow(const float* p, long n) {
  for (long j = 0; j < n; j += 16) __builtin_prefetch(p + j, 0, 2);  // to L2: L1 holds the current row
}

/** sum of f(j) for j < n in float64, as 8 interleaved partial sums (vectorisable). */
template <class F>
[[gnu::always_inline]] inline double sumF64(long n, F f) {
  double acc[8] = {};
  long j = 0;
  for (; j + 8 <= n; j += 8)
    for (int u = 0; u < 8; u++) acc[u] += f(j + u);
  double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; j < n; j++) s += f(j);
  return s;
}

/**
 * sum of f(j) (float) for j < n: 16 interleaved float partial sums over blocks of 256 terms, block sums added in
 * float64, so the rounding error stays that of ~16-term float sums at any n (vocabulary-sized rows).
 */
template <class F>
[[gnu::always_inline]] inline double sumBlocks(long n, F f) {
  double total = 0.0;
  long j0 = 0;
  for (; j0 + 256 <= n; j0 += 256) {
    float acc[16] = {};
    for (long j = j0; j < j0 + 256; j += 16)
      for (int u = 0; u < 16; u++) acc[u] += f(j + u);
    float s = 0.0f;
    for (int u = 0; u < 16; u++) s += acc[u];
    total += s;
  }
  for (long j = j0; j < n; j++) total += f(j);
  return total;
}

/** sum of f(j) for j < n in float32, as 16 interleaved partial sums (vectorisable). */
template <class F>
[[gnu::always_inline]] inline float sumF32(long n, F f) {
  float acc[16] = {};
  long j = 0;
  for (; j + 16 <= n; j += 16)
    for (int u = 0; u < 16; u++) acc[u] += f(j + u);
  float s = 0.0f;
  for (int u = 0; u < 16; u++) s += acc[u];
  for (; j < n; j++) s += f(j);
  return s;
}

/**
 * max(init, x[0..n)) through integer keys that order like the floats (sign-magnitude flipped to two's
 * complement), because the compiler vectorises an integer max reduction but not a float one without
 * -ffinite-math-only. -0 orders below +0; a NaN input may come out as NaN (the row's result is NaN anyway).
 */
[[gnu::always_inline]] inline float maxF32(const float* x, long n, float init) {
  const int32_t ib = __builtin_bit_cast(int32_t, init);
  int32_t m = ib ^ ((ib >> 31) & 0x7fffffff);
  for (long j = 0; j < n; j++) {
    const int32_t b = __builtin_bit_cast(int32_t, x[j]);
    const int32_t k = b ^ ((b >> 31) & 0x7fffffff);
    m = k > m ? k : m;
  }
  return __builtin_bit_cast(float, m ^ ((m >> 31) & 0x7fffffff));
}

}  // namespace lwz
