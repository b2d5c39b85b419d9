// SwiGLU: out = silu(gate) * up with silu(g) = g sigmoid(g); backward dUp = dOut silu(g),
// dGate = dOut up sig(g) (1 + g (1 - sig(g))), both overwritten. gate, up, out and grads (N, F) flat.
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

constexpr long kGrain = 1 << 15;

LWZ_CLONES void forwardRange(const float* gate, const float* up, float* out, long lo, long hi) {
  for (long i = lo; i < hi; i++) {
    const float g = gate[i];
    out[i] = g / (1.0f + fastExp(-g)) * up[i];
  }
}

LWZ_CLONES void backwardRange(const float* dOut, const float* gate, const float* up, float* dGate, float* dUp, long lo,
                              long hi) {
  for (long i = lo; i < hi; i++) {
    const float g = gate[i], d = dOut[i], u = up[i];
    const float sg = 1.0f / (1.0f + fastExp(-g));
    dGate[i] = d * u * sg * (1.0f + g * (1.0f - sg));
    dUp[i] = d * g * sg;
  }
}

// Below -88 fastExp clamps its argument (exp(88) stands in for exp(1e37)): silu(-1e37) read -0.06, not 0. These
// rare gates are redone with sigmoid 0 after the main loops, which stay as they were (the same code, the same bits:
// a branch inside them changed the compiled arithmetic and with it every trained weight). g * 0 keeps silu(-inf)
// NaN, as the ref's -inf / inf.
void forwardFarNegative(const float* gate, const float* up, float* out, long lo, long hi) {
  for (long i = lo; i < hi; i++)
    if (gate[i] < -88.0f) out[i] = gate[i] * 0.0f * up[i];
}

// sigmoid 0 makes both gradients 0 (NaN for g = -inf), whatever dOut and up were: they are not read again here, as a
// gradient may overwrite its dOut in place
void backwardFarNegative(const float* gate, float* dGate, float* dUp, long lo, long hi) {
  for (long i = lo; i < hi; i++) {
    const float g = gate[i];
    if (g < -88.0f) dGate[i] = dUp[i] = g * 0.0f;
  }
}

// Whether any gate of [lo, hi) is below -88: a compare-and-or the compiler vectorises, where the fix-ups above, a
// store under a branch, ran one value at a time (on the baseline ISA) and took two thirds of the forward's time
// (benchmarks/README.md, "2026-12-02 11:55"). NaN gates compare false, as in the fix-ups.
LWZ_CLONES bool anyFarNegative(const float* gate, long lo, long hi) {
  int any = 0;
  for (long i = lo; i < hi; i++) any |= gate[i] < -88.0f;
  return any != 0;
}

// The fix-up pass goes over blocks of this many values right after the main loop wrote them (gate still in L1)
constexpr long kBlock = 2048;

// main(b, e) over [lo, hi) in blocks of kBlock, each followed by fixUp(b, e) when the block holds a far-negative gate
template <class Main, class FixUp>
void inBlocks(const float* gate, long lo, long hi, Main main, FixUp fixUp) {
  for (long b = lo; b < hi; b += kBlock) {
    const long e = minL(hi, b + kBlock);
    main(b, e);
    if (anyFarNegative(gate, b, e)) fixUp(b, e);
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
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) {
    inBlocks(
        gate, lo, hi, [&](long b, long e) { forwardRange(gate, up, out, b, e); },
        [&](long b, long e) { forwardFarNegative(gate, up, out, b, e); });
  });
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
  parallelRange(n, streamGrain(n, kGrain), [&](long lo, long hi) {
    inBlocks(
        gate, lo, hi, [&](long b, long e) { backwardRange(dOut, gate, up, dGate, dUp, b, e); },
        [&](long b, long e) { backwardFarNegative(gate, dGate, dUp, b, e); });
  });
  return undefined(env);
}

}  // namespace lwz
