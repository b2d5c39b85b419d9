// Rotary embedding, Hugging Face rotate-half convention: for i < D/2, angle = pos * theta^(-2i/D),
// y[i] = x[i] cos - x[i+D/2] sin, y[i+D/2] = x[i+D/2] cos + x[i] sin; `inverse` rotates by -angle (the
// backward). Angles in float64 like the ref. x, out (B, T, H, D), in place allowed; positions (B, T).
#include <cmath>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {

// (x, positions, out, b, t, h, d, theta, inverse)
napi_value ropeForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "ropeForward");
  const float* x = in.f32(0);
  const int32_t* positions = in.i32(1);
  float* out = in.f32(2);
  const long b = in.integer(3), t = in.integer(4), h = in.integer(5), d = in.integer(6);
  const double theta = in.num(7);
  const bool inverse = in.flag(8);
  if (!in.ok) return nullptr;
  const long half = d / 2;
  double invFreq[1024];  // (D/2,); D <= 2048 is checked on the TypeScript side
  for (long i = 0; i < half; i++) invFreq[i] = std::pow(theta, -2.0 * i / d);
  parallelRange(b * t, maxL(1, (1 << 14) / maxL(h * d, 1)), [&](long lo, long hi) {
    float cs[1024], sn[1024];  // (D/2,) cos and sin for one token
    for (long bt = lo; bt < hi; bt++) {
      const double pos = positions[bt];
      for (long i = 0; i < half; i++) {
        const double angle = pos * invFreq[i];
        cs[i] = static_cast<float>(std::cos(angle));
        sn[i] = static_cast<float>((inverse ? -1.0 : 1.0) * std::sin(angle));
      }
      for (long hh = 0; hh < h; hh++) {
        const float* xs = x + (bt * h + hh) * d;
        float* ys = out + (bt * h + hh) * d;
        for (long i = 0; i < half; i++) {
          const float x1 = xs[i], x2 = xs[i + half];
          ys[i] = x1 * cs[i] - x2 * sn[i];
          ys[i + half] = x2 * cs[i] + x1 * sn[i];
        }
      }
    }
  });
  return undefined(env);
}

}  // namespace lwz
