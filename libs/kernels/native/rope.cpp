// Rotary embedding, Hugging Face rotate-half convention: for i < D/2, angle = pos * theta^(-2i/D),
// y[i] = x[i] cos - x[i+D/2] sin, y[i+D/2] = x[i+D/2] cos + x[i] sin; `inverse` rotates by -angle (the
// backward). Angles and their cos/sin in float64 like the ref, rounded to float once. When positions repeat
// (a batch of sequences), cos/sin are tabulated once per distinct position instead of once per token, and the
// last table per direction is kept for the next call with the same positions, theta and D (every layer's q and
// k in a step): building it costs 2 span D/2 float64 cos/sin, ~a quarter of a (8, 1024, 16, 64) call on Zen 4.
// x, out (B, T, H, D), in place allowed; positions (B, T).
#include <cmath>
#include <vector>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

// cs/sn (D/2,) for one position
void angles(const double* invFreq, long half, double pos, bool inverse, float* cs, float* sn) {
  for (long i = 0; i < half; i++) {
    const double angle = pos * invFreq[i];
    cs[i] = static_cast<float>(std::cos(angle));
    sn[i] = static_cast<float>((inverse ? -1.0 : 1.0) * std::sin(angle));
  }
}

// rotate at D = 2 HALF known at compile time, so a token's cos / sin stay in registers over its heads instead of being
// reloaded for each (rotate's stores might alias them): RoPE at D = 64 went from 0.69-0.99x to 0.88-0.97x of the copy
// on Zen 5. Always inlined, so it is compiled inside each of rotate's clones, never once for baseline x86-64.
template <long HALF>
[[gnu::always_inline]] inline void rotateFixed(const float* xs, float* ys, const float* __restrict cs,
                                               const float* __restrict sn, long h) {
  float c[HALF], s[HALF];
  for (long i = 0; i < HALF; i++) c[i] = cs[i], s[i] = sn[i];
  for (long hh = 0; hh < h; hh++, xs += 2 * HALF, ys += 2 * HALF) {
#pragma GCC ivdep
    for (long i = 0; i < HALF; i++) {
      const float a = xs[i], b = xs[i + HALF];
      ys[i] = a * c[i] - b * s[i];
      ys[i + HALF] = b * c[i] + a * s[i];
    }
  }
}

// One token's H heads; xs may equal ys (in place). Element i reads x[i], x[i + D/2] and writes y[i], y[i + D/2]
// only, so even in place no iteration reads what another writes: ivdep lets the compiler vectorise without its
// aliasing fallback. (A copy of each head to a local buffer did the same at twice the stores: 0.48-0.55x of the
// copy in the memory-bound suite on Zen 5, against 0.63-0.78x without it.)
LWZ_CLONES void rotate(const float* xs, float* ys, const float* cs, const float* sn, long h, long d) {
  const long half = d / 2;
  if (half == 32) return rotateFixed<32>(xs, ys, cs, sn, h);
  if (half == 64) return rotateFixed<64>(xs, ys, cs, sn, h);
  for (long hh = 0; hh < h; hh++, xs += d, ys += d) {
#pragma GCC ivdep
    for (long i = 0; i < half; i++) {
      const float a = xs[i], b = xs[i + half];
      ys[i] = a * cs[i] - b * sn[i];
      ys[i + half] = b * cs[i] + a * sn[i];
    }
  }
}

// A cos/sin table (span, 2, D/2) for positions [lo, lo + span); one kept per direction and JS thread (napi calls
// on one thread never overlap; the pool's workers only read it while the call that built it waits).
struct RopeTable {
  long lo = 0, span = 0, d = 0;
  double theta = 0.0;
  std::vector<float> values;
  bool matches(long l, long s, long dd, double th) const { return !values.empty() && lo == l && span == s && d == dd && theta == th; }
};
constexpr long kKeptTableFloats = 1L << 22;  // tables up to 16 MB are kept (span 32k at D = 128)
thread_local RopeTable kept[2];

// The table for [lo, lo + span): the kept one when it matches, else built (and kept when small enough).
const float* ropeTable(RopeTable& local, const double* invFreq, long lo, long span, long d, double theta, bool inverse) {
  const long half = d / 2;
  RopeTable& t = 2 * span * half <= kKeptTableFloats ? kept[inverse ? 1 : 0] : local;
  if (t.matches(lo, span, d, theta)) return t.values.data();
  t.values.assign(static_cast<size_t>(2 * span * half), 0.0f);
  t.lo = lo, t.span = span, t.d = d, t.theta = theta;
  float* table = t.values.data();
  parallelRange(span, maxL(1, 256 / maxL(half, 1)), [&](long p0, long p1) {
    for (long p = p0; p < p1; p++)
      angles(invFreq, half, static_cast<double>(lo + p), inverse, &table[2 * p * half], &table[(2 * p + 1) * half]);
  });
  return table;
}

}  // namespace

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
  const long half = d / 2, tokens = b * t;
  double invFreq[1024];  // (D/2,); D <= 2048 is checked on the TypeScript side
  for (long i = 0; i < half; i++) invFreq[i] = std::pow(theta, -2.0 * i / d);
  const long grain = streamGrain(b * t, maxL(1, (1 << 14) / maxL(h * d, 1)));
  int32_t lo = 0, hi = -1;
  for (long i = 0; i < tokens; i++) {
    lo = i == 0 || positions[i] < lo ? positions[i] : lo;
    hi = i == 0 || positions[i] > hi ? positions[i] : hi;
  }
  const long span = static_cast<long>(hi) - lo + 1;
  if (tokens > 0 && span <= tokens / 2 && span * half <= (1L << 24)) {
    RopeTable local;
    const float* table = ropeTable(local, invFreq, lo, span, d, theta, inverse);  // (span, 2, D/2): cos then sin per position
    parallelRange(tokens, grain, [&](long t0, long t1) {
      for (long bt = t0; bt < t1; bt++) {
        const float* cs = &table[static_cast<size_t>(2 * (positions[bt] - lo) * half)];
        rotate(x + bt * h * d, out + bt * h * d, cs, cs + half, h, d);
      }
    });
    return undefined(env);
  }
  parallelRange(tokens, grain, [&](long t0, long t1) {
    float cs[1024], sn[1024];  // (D/2,) cos and sin for one token
    for (long bt = t0; bt < t1; bt++) {
      angles(invFreq, half, static_cast<double>(positions[bt]), inverse, cs, sn);
      rotate(x + bt * h * d, out + bt * h * d, cs, sn, h, d);
    }
  });
  return undefined(env);
}

}  // namespace lwz
