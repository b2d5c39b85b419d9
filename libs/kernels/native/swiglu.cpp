// SwiGLU: out = silu(gate) * up with silu(g) = g sigmoid(g); backward dUp = dOut silu(g),
// dGate = dOut up sig(g) (1 + g (1 - sig(g))), both overwritten. gate, up, out and grads (N, F) flat.
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 15;

/**
 * sigmoid(g); 0 below -88, where fastExp clamps its argument (exp(88) stands in for exp(1e37), so silu(-1e37) read
 * -0.06 instead of 0). g * 0 keeps silu(-inf) NaN, as the ref's -inf / inf.
 */
inline float sigmoid(float g) { return g < -88.0f ? 0.0f : 1.0f / (1.0f + fastExp(-g)); }

LWZ_CLONES void forwardRange(const float* gate, const float* up, float* out, long lo, long hi) {
  for (long i = lo; i < hi; i++) {
    const float g = gate[i];
    out[i] = (g < -88.0f ? g * 0.0f : g / (1.0f + fastExp(-g))) * up[i];  // the division as before: same bits above -88
  }
}

LWZ_CLONES void backwardRange(const float* dOut, const float* gate, const float* up, float* dGate, float* dUp, long lo,
                              long hi) {
  for (long i = lo; i < hi; i++) {
    const float g = gate[i], d = dOut[i], u = up[i];
    const float sg = sigmoid(g);
    dGate[i] = d * u * sg * (1.0f + g * (1.0f - sg));
    dUp[i] = d * g * sg;
  }
}

}  // namespace

// (gate, up, out, n)
napi_value swigluForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "swigluForward");
  const float* gate = in.f32(0);
  const float* up = in.f32(1);
  float* out = in.f32(2);
  const long n = in.integer(3);
  if (!in.ok) return nullptr;
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { forwardRange(gate, up, out, lo, hi); });
  return undefined(env);
}

// (dOut, gate, up, dGate, dUp, n)
napi_value swigluBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "swigluBackward");
  const float* dOut = in.f32(0);
  const float* gate = in.f32(1);
  const float* up = in.f32(2);
  float* dGate = in.f32(3);
  float* dUp = in.f32(4);
  const long n = in.integer(5);
  if (!in.ok) return nullptr;
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) { backwardRange(dOut, gate, up, dGate, dUp, lo, hi); });
  return undefined(env);
}

}  // namespace lwz
