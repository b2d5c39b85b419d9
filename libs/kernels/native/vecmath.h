// Branch-free float math that the compiler can vectorise (std::exp cannot be, without -ffast-math), and the
// attribute that compiles a loop-heavy kernel three times (AVX-512, AVX2+FMA, baseline) with the best one
// picked at load by the dynamic linker. Accuracy: fastExp is within ~2 ulp of expf over its whole range.
#pragma once
#include <cstdint>
#include <cstring>

#define LWZ_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace lwz {

/** e^x; 0 for x below -87 (including -inf), clamped near FLT_MAX above 88. Cephes-style polynomial. */
[[gnu::always_inline]] inline float fastExp(float x) {
  const float cx = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float fn = __builtin_floorf(cx * 1.44269504088896341f + 0.5f);
  const float r = cx - fn * 0.693359375f + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(fn) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < -87.0f ? 0.0f : y * scale;
}

}  // namespace lwz
