// AVX-512 row passes of rowstats.h: 16 lanes, masked loads and stores for row tails, and e^d with vscalefps
// (d clamped at -150, so -inf and very negative d give exactly 0 without a select): the Cephes polynomial for
// written values, a cheaper base-2 fit for sum terms.
// Compiled for AVX-512 through a target pragma and only called after run-time detection; no standard-library
// code follows the pragma. GCC 12 reports false (maybe-)uninitialized warnings inside its own AVX-512 intrinsics
// (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>

#include "rowstats.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

#define LWZ_ROWPASS_NS avx512
#include "rowpass_impl.h"

namespace lwz {
namespace {

struct V16 {
  using T = __m512;
  static constexpr long W = 16;
  static __mmask16 first(long n) { return static_cast<__mmask16>((1u << n) - 1); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T loadPart(const float* p, long n, float fill) { return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), first(n), p); }
  static void store(float* p, T a) { _mm512_storeu_ps(p, a); }
  static void storePart(float* p, long n, T a) { _mm512_mask_storeu_ps(p, first(n), a); }
  static void stream(float* p, T a) { _mm512_stream_ps(p, a); }  // p 64-byte aligned
  static T set1(float a) { return _mm512_set1_ps(a); }
  static T zero() { return _mm512_setzero_ps(); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static float reduceMax(T a) { return _mm512_reduce_max_ps(a); }
  static double reduceAdd(T a) { return _mm512_reduce_add_ps(a); }
  // max(-150, d): vmaxps returns its second operand when either is NaN, so a NaN d stays NaN
  static T clamp(T d) { return _mm512_max_ps(_mm512_set1_ps(-150.0f), d); }
  // the sum terms' clamp (rowpass_impl.h kSumLimit): d above 88 overflows to inf in expTerm's vscalefps
  static T clampSum(T d) { return clamp(d); }
  static T expAccurate(T c) {
    const T n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    T r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    T p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const T y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
  }
  // 2^(c log2 e) = 2^n 2^f, f = t - n in [-0.5, 0.5], 2^f by a degree-5 fit (max relative error 1e-7 on the
  // interval; the float product t adds 6e-8 |t|, ~4e-7 for the terms above e^-5 that carry a row's sum): 7
  // multiply-class ops against the accurate form's 11, for the sum terms only (the lse and entropy passes)
  static T expTerm(T c) {
    const T t = _mm512_mul_ps(c, _mm512_set1_ps(1.44269504088896341f));
    const T n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const T f = _mm512_sub_ps(t, n);
    T p = _mm512_set1_ps(1.327647178e-3f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.675541333e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550713274e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402211972e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931469671e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.000000072f));
    return _mm512_scalef_ps(p, n);
  }
  static T exp(T d) { return expAccurate(clamp(d)); }
};

double lse16(const float* x, long v) { return avx512::lse<V16>(x, v); }
double entropy16(const float* x, long v) { return avx512::entropy<V16>(x, v); }
void shift16(const float* x, float* o, long v, float hi, float lo, bool stream) {
  avx512::shiftRow<V16>(x, o, v, hi, lo, stream);
}
void exp16(const float* x, float* o, long v, float hi, float lo, float s, bool stream) {
  avx512::expRow<V16>(x, o, v, hi, lo, s, stream);
}

double lseShift16(const float* x, long v, const float* px, float* po, float hi, float lo, bool stream) {
  return avx512::lseShiftPrev<V16>(x, v, px, po, hi, lo, stream);
}

void rmsBwd16(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c, bool stream) {
  avx512::rmsnormBackwardRow<V16>(dy, x, w, rs, dx, blk, c, stream);
}
void rmsDw16(const float* dy, const float* x, const float* rs, long rows, long c, float* blk) {
  avx512::rmsnormDwBlock<V16>(dy, x, rs, rows, c, blk);
}
void gather16(const float* table, const int32_t* ids, float* out, long r0, long r1, long c) {
  avx512::gatherRowsStream<V16>(table, ids, out, r0, r1, c);
}
}  // namespace

const RowPasses& rowPassesAvx512() {
  static const RowPasses p = {lse16, entropy16, shift16, exp16, lseShift16, rmsBwd16, rmsDw16, gather16};
  return p;
}

}  // namespace lwz

#pragma GCC pop_options
