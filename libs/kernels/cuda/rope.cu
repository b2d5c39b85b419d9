// RoPE, Hugging Face rotate-half convention (ref/rope.ts): for i < D/2, angle = pos theta^(-2i/D),
// y[i] = x[i] cos - x[i + D/2] sin, y[i + D/2] = x[i + D/2] cos + x[i] sin; `inverse` rotates by -angle (the
// backward). The angle is formed and reduced mod 2 pi in float64 (exact at 16k+ positions), then sin/cos in f32.
// One thread per (row, i) computes the angle once and rotates every head; in place (out == x) is allowed.
#include "common.cuh"

namespace lwz {
namespace {

template <typename T>
__global__ void ropeKernel(const T* x, const int32_t* positions, T* out, int64_t rows, int h, int d, double theta, bool inverse) {
  const int half = d / 2;
  const int64_t total = rows * half;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = idx / half;
    const int i = int(idx % half);
    const double angle = double(positions[row]) * pow(theta, -2.0 * i / d);
    const float reduced = float(fmod(angle, 6.283185307179586476925286766559));
    float s, c;
    sincosf(reduced, &s, &c);
    if (inverse) s = -s;
    for (int hh = 0; hh < h; hh++) {
      const int64_t o = (row * h + hh) * d;
      const float x1 = ld(x, o + i), x2 = ld(x, o + i + half);
      st(out, o + i, x1 * c - x2 * s);
      st(out, o + i + half, x2 * c + x1 * s);
    }
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" int lwz_rope(const void* x, const int32_t* positions, void* out, int dt, int64_t b, int64_t t, int64_t h, int64_t d,
                        double theta, int inverse) {
  const char* name = "ropeForward";
  if (requireInit(name)) return -1;
  const int64_t rows = b * t;
  if (rows == 0 || h == 0 || d < 2) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    ropeKernel<T><<<gridFor(rows * (d / 2), 256), 256, 0, stream()>>>(static_cast<const T*>(x), positions, static_cast<T*>(out), rows,
                                                                     int(h), int(d), theta, inverse != 0);
    return checkLaunch(name);
  });
}
