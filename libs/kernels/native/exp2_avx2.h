// 2^f for |f| <= 0.5 in 8 lanes: the degree-5 fit (relative error 2.3e-7) that rowpass_avx512.cpp's expTerm
// uses on 16 lanes, shared by the AVX2 row passes' expTerm (rowpass_avx2.cpp: log-sum-exp sums, entropy terms)
// and the decode attention's softmax terms (attention_decode_avx2.cpp). The callers split t = n + f and build
// 2^n in the exponent bits themselves. Include only after a `#pragma GCC target("avx2,fma")`.
#pragma once
#include <immintrin.h>

namespace lwz {

[[gnu::always_inline]] inline __m256 exp2Fraction(__m256 f) {
  __m256 p = _mm256_set1_ps(1.327647178e-3f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.675541333e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550713274e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402211972e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931469671e-1f));
  return _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.000000072f));
}

}  // namespace lwz
