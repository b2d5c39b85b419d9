// AVX2+FMA row passes of rowstats.h: 8 lanes, maskload/maskstore for row tails, and e^d with the exponent
// built in integer lanes (the Cephes polynomial for written values, rowpass_avx512.cpp's base-2 fit for the
// entropy's terms, a cheaper degree-4 form for the log-sum-exp's sum, V8::SumTerms; d clamped at -87: the exp
// pass zeroes d < -87 with a mask, the sum terms keep e^-87 ~ 1.6e-38, harmless next to the max's own 1).
// Compiled for AVX2 through a target pragma and only called after run-time detection; no standard-library code
// follows the pragma.
#include <immintrin.h>

#include <cmath>

#include "rowstats.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "exp2_avx2.h"

#define LWZ_ROWPASS_NS avx2
#include "rowpass_impl.h"

namespace lwz {
namespace {

struct V8 {
  using T = __m256;
  static constexpr long W = 8;
  static constexpr float kLog2e = 1.44269504088896341f;
  static __m256i first(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T loadPart(const float* p, long n, float fill) {
    const __m256i k = first(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
  }
  static void store(float* p, T a) { _mm256_storeu_ps(p, a); }
  static void storePart(float* p, long n, T a) { _mm256_maskstore_ps(p, first(n), a); }
  static void stream(float* p, T a) { _mm256_stream_ps(p, a); }  // p 32-byte aligned
  static T set1(float a) { return _mm256_set1_ps(a); }
  static T zero() { return _mm256_setzero_ps(); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static float reduceMax(T a) {
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    q = _mm_max_ps(q, _mm_movehl_ps(q, q));
    q = _mm_max_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
  }
  static double reduceAdd(T a) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
  }
  // max(-87, d): vmaxps returns its second operand when either is NaN, so a NaN d stays NaN
  static T clamp(T d) { return _mm256_max_ps(_mm256_set1_ps(-87.0f), d); }
  // the sum terms' clamp: also min(80, d), as expTerm's integer exponent would wrap past 2^127; e^80 is above
  // rowpass_impl.h kSumLimit (256), so a clamped term fails that test. vminps keeps a NaN second operand too
  static T clampSum(T d) { return _mm256_min_ps(_mm256_set1_ps(80.0f), clamp(d)); }
  static T expAccurate(T c) {
    const T n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    T r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    T p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const T y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  }
  // 2^(c log2 e) = 2^n 2^f as in rowpass_avx512.cpp's expTerm (same fit and error), for the sum terms only
  static T expTerm(T c) {
    const T t = _mm256_mul_ps(c, _mm256_set1_ps(1.44269504088896341f));
    const T n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const T f = _mm256_sub_ps(t, n);
    const T p = exp2Fraction(f);
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  /**
   * The log-sum-exp's sum terms (rowpass_impl.h SumTermsOf): 2^t with t = x log2e + b in one FMA, b = -m log2e
   * rounded to float, so t is log2e (x - origin) rounded once, origin = -b / log2e (within ~6e-8 |m| of m);
   * x - m and a multiply took one op more and rounded twice. 2^f on [-1/2, 1/2] by a degree-4 fit (relative
   * error 2.7e-6 at most, 4e-8 on average over f; expTerm's degree 5 has 2.3e-7): the log-sum-exp moves by at
   * most that, below the logprobs tolerance's 2e-5 + 1e-5 |x|. 2^t clamped to [2^-125, 2^115]: lower, e^-87 terms
   * as clampSum's; upper, above kSumLimit, so the block takes the max step. Zen 3, a 4096-value row in L1, ns per
   * 16 values: x - m form 4.98, this FMA with degree 5 4.51, with degree 4 3.96 (benchmarks/README.md, membound6).
   * covers(m): |m| below 2^20, where origin is within |m| 2^-24 <= 1/16 of m, so the max's own term stays near 1
   * (at 1e9 origin could be 60 away, past the clamp); above, ExpAgainstMax.
   */
  struct SumTerms {
    T c, b;
    double origin;
    static bool covers(float m) { return m < 1048576.0f && m > -1048576.0f; }
    explicit SumTerms(float m)
        : c(_mm256_set1_ps(kLog2e)),
          b(_mm256_set1_ps(static_cast<float>(-static_cast<double>(m) * kLog2e))),
          origin(-static_cast<double>(static_cast<float>(-static_cast<double>(m) * kLog2e)) / kLog2e) {}
    T operator()(T x) const {
      // t = max(-125, x log2e + b) (NaN stays NaN); y = t + 1.5 2^23 + 127 holds round(t) + 127 in its low bits up to
      // |t| = 2^22, so y << 23 is 2^round(t)'s bits; f = t - round(t). The upper clamp is an integer min on y's bits
      // (the float add and the integer ALU share the load; 2 % faster than a float min on t): n <= 115. A t above
      // 2^22 (or +inf) gives y = t, f of ulp(t) size or NaN and n = 115, p >= 0.26 (the quartic's minimum over all f)
      // or NaN: the sum fails kSumLimit.
      const T t = _mm256_max_ps(_mm256_set1_ps(-125.0f), _mm256_fmadd_ps(x, c, b));
      const T yt = _mm256_add_ps(t, _mm256_set1_ps(12583039.0f));
      const T f = _mm256_sub_ps(t, _mm256_sub_ps(yt, _mm256_set1_ps(12583039.0f)));
      const __m256i y = _mm256_min_epi32(_mm256_castps_si256(yt), _mm256_set1_epi32(0x4B400000 + 127 + 115));
      T p = _mm256_set1_ps(9.570100344717503e-3f);
      p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.591786280274391e-2f));
      p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.40247443318367e-1f));
      p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931217908859253e-1f));
      p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.999992847442627e-1f));
      return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(y, 23)));
    }
  };
  // d < -87 (and -inf) -> 0; NaN compares unordered and is kept
  static T exp(T d) {
    return _mm256_and_ps(expAccurate(clamp(d)), _mm256_cmp_ps(d, _mm256_set1_ps(-87.0f), _CMP_NLT_UQ));
  }
};

double lse8(const float* x, long v) { return avx2::lse<V8>(x, v); }
double entropy8(const float* x, long v) { return avx2::entropy<V8>(x, v); }
void shift8(const float* x, float* o, long v, float hi, float lo, bool stream) {
  avx2::shiftRow<V8>(x, o, v, hi, lo, stream);
}
void exp8(const float* x, float* o, long v, float hi, float lo, float s, bool stream) {
  avx2::expRow<V8>(x, o, v, hi, lo, s, stream);
}
double lseShift8(const float* x, long v, const float* px, float* po, float hi, float lo, bool stream) {
  return avx2::lseShiftPrev<V8>(x, v, px, po, hi, lo, stream);
}

void rmsBwd8(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c, bool stream) {
  avx2::rmsnormBackwardRow<V8>(dy, x, w, rs, dx, blk, c, stream);
}
void gather8(const float* table, const int32_t* ids, float* out, long r0, long r1, long c) {
  avx2::gatherRowsStream<V8>(table, ids, out, r0, r1, c);
}
}  // namespace

const RowPasses& rowPassesAvx2() {
  static const RowPasses p = {lse8, entropy8, shift8, exp8, lseShift8, rmsBwd8, nullptr, gather8};
  return p;
}

}  // namespace lwz

#pragma GCC pop_options
