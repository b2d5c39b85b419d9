// AVX2+FMA body of the decode attention (attention_decode.cpp) for head dims 64 and 128, the AVX-512 body's
// plan in 8-float registers with 16 of them. Per span of up to 256 keys: (1) the scores, eight keys at a time,
// key-block outer so the 8 key rows stay in L1 while every query row reads them: query rows two at a time against
// 4 keys (8 partial sums, each key vector loaded once for both rows), an odd last row against all 8 keys (its query
// in 8 registers, the partial sums in the other 8), reduced by hadds into vectors of scores; (2) one softmax update
// per row over the span (2^t with t from one FMA, independent lanes); (3) P V over 32-key blocks (in L1), per 32
// output columns and 2 query rows: 8 accumulators, 4 value vectors, 1 broadcast probability. A vector used by
// several FMAs is pinned in a register (an empty asm): GCC otherwise folds its load into each FMA, and Zen 3's two
// 256-bit loads per cycle, not its two FMAs, set the pace. Branch attn5 (benchmarks/README.md): with the cache
// streamed from memory, 2 threads, these three together read 1k-16k caches at 0.51-0.69x of the read where the
// one-row scores and the exp of expVec took 0.49-0.65x (attn3 and attn4 had measured each from L2 only).
// Meanwhile the next span's K and V lines are requested, spread over (1) and (3). Compiled for AVX2 through a
// target pragma and only called after run-time detection; no standard-library code follows the pragma.
#include <immintrin.h>

#include "attention.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "exp2_avx2.h"

namespace lwz {
namespace {

constexpr long kKeys = 8;            // keys per score vector
constexpr long kSpan = kDecodeSpan;  // keys per softmax update
constexpr long kPvKeys = 32;         // keys per P V block: 32 value rows of D <= 128 floats stay in L1
constexpr long kQRegs = 8;           // query vectors held per score pass (8 more hold the keys' partial sums)

/** e^x lane by lane (the fastExp polynomial of vecmath.h); 0 below -87, so -inf gives 0. */
inline __m256 expVec(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.0f);
  const __m256 cx = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.0f));
  const __m256 fn = _mm256_floor_ps(_mm256_fmadd_ps(cx, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  const __m256 r = _mm256_fmadd_ps(fn, _mm256_set1_ps(2.12194440e-4f), _mm256_fnmadd_ps(fn, _mm256_set1_ps(0.693359375f), cx));
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fn), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ), _mm256_mul_ps(y, _mm256_castsi256_ps(bits)));
}

/** All-ones in the lanes below `left` (0 .. 8 lanes). */
inline __m256 lanesBelow(long left) {
  const int n = static_cast<int>(left < 0 ? 0 : left > kKeys ? kKeys : left);
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

inline float hmax(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
}

inline float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}

/** Lane j of the result = the sum of the 8 lanes of a[j]. */
inline __m256 sum8(const __m256* a) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));  // 128-bit halves apart
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/** The next span's K and V lines still to request (this head's share), a few at a time: as attention_decode_avx512.cpp. */
struct Ahead {
  const char *k, *v;
  long lines;
  void issue(long count) {
    for (; count > 0 && lines > 0; count--, lines--, k += 64, v += 64) {
      _mm_prefetch(k, _MM_HINT_T1);
      _mm_prefetch(v, _MM_HINT_T1);
    }
  }
};

/** Scores of query row q (D = 8 * NC, pre-scaled) against the 8 key rows kr, into s[0 .. 8). */
template <long NC>
[[gnu::always_inline]] inline void scores8(const float* q, const float* const* kr, float* s) {
  __m256 part[kKeys];
  for (long j = 0; j < kKeys; j++) part[j] = _mm256_setzero_ps();
  for (long h = 0; h < NC; h += kQRegs) {
    __m256 qv[kQRegs];
    for (long c = 0; c < kQRegs; c++) qv[c] = _mm256_loadu_ps(q + 8 * (h + c));
    for (long c = 0; c < kQRegs; c++)
      for (long j = 0; j < kKeys; j++) part[j] = _mm256_fmadd_ps(qv[c], _mm256_loadu_ps(kr[j] + 8 * (h + c)), part[j]);
  }
  _mm256_storeu_ps(s, sum8(part));
}

/**
 * Scores of query rows q0 and q1 (D = 8 * NC, pre-scaled) against the 4 key rows kr, into s0[0 .. 4) and s1[0 .. 4):
 * each key vector is loaded once for both rows (pinned in a register by an empty asm: GCC otherwise folds the load
 * into each row's FMA, and Zen 3's two 256-bit loads per cycle set the pace), 8 FMA chains, reduced by hadds as sum8.
 */
template <long NC>
[[gnu::always_inline]] inline void scores2x4(const float* q0, const float* q1, const float* const* kr, float* s0, float* s1) {
  __m256 a0[4], a1[4];
  for (long j = 0; j < 4; j++) a0[j] = a1[j] = _mm256_setzero_ps();
  for (long c = 0; c < NC; c++) {
    const __m256 x0 = _mm256_loadu_ps(q0 + 8 * c), x1 = _mm256_loadu_ps(q1 + 8 * c);
    for (long j = 0; j < 4; j++) {
      __m256 kv = _mm256_loadu_ps(kr[j] + 8 * c);
      __asm__("" : "+x"(kv));
      a0[j] = _mm256_fmadd_ps(x0, kv, a0[j]);
      a1[j] = _mm256_fmadd_ps(x1, kv, a1[j]);
    }
  }
  // lanes 0-3: row 0's sums of keys 0-3 over the low 128-bit halves, lanes 4-7 over the high halves (as sum8)
  const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(a0[0], a0[1]), _mm256_hadd_ps(a0[2], a0[3]));
  const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(a1[0], a1[1]), _mm256_hadd_ps(a1[2], a1[3]));
  const __m256 s = _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
  _mm_storeu_ps(s0, _mm256_castps256_ps128(s));
  _mm_storeu_ps(s1, _mm256_extractf128_ps(s, 1));
}

/** P V for RB query rows over nk keys and 8 * CW output columns: RB * CW = 8 accumulators (FMA chains). */
template <long RB, long CW>
inline void pvTile(const float* vr, long step, long nk, const float* p, float* o, long d) {
  __m256 acc[RB][CW];
  for (long rr = 0; rr < RB; rr++)
    for (long c = 0; c < CW; c++) acc[rr][c] = _mm256_loadu_ps(o + rr * d + 8 * c);
  for (long j = 0; j < nk; j++, vr += step) {
    __m256 vv[CW];
    for (long c = 0; c < CW; c++) {
      vv[c] = _mm256_loadu_ps(vr + 8 * c);
      if (RB > 1) __asm__("" : "+x"(vv[c]));  // loaded once for the RB rows (as in scores2x4)
    }
    for (long rr = 0; rr < RB; rr++) {
      const __m256 pj = _mm256_broadcast_ss(p + rr * kSpan + j);
      for (long c = 0; c < CW; c++) acc[rr][c] = _mm256_fmadd_ps(pj, vv[c], acc[rr][c]);
    }
  }
  for (long rr = 0; rr < RB; rr++)
    for (long c = 0; c < CW; c++) _mm256_storeu_ps(o + rr * d + 8 * c, acc[rr][c]);
}

/** Softmax update of row r over the span's n scores s (the first `valid` visible): p into s, corr, l and m. */
inline void softmaxSpan(float* s, long n, long valid, float& m, float& l, float& corr) {
  __m256 mv = _mm256_set1_ps(-__builtin_inff());
  long x = 0;
  for (; x + kKeys <= valid; x += kKeys) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + x));
  if (x < valid) mv = _mm256_max_ps(mv, _mm256_blendv_ps(mv, _mm256_loadu_ps(s + x), lanesBelow(valid - x)));
  const float top = hmax(mv);
  const float mx = top > m ? top : m;
  if (mx == -__builtin_inff()) {  // nothing visible yet: p = 0, state unchanged
    corr = 1.0f;
    for (x = 0; x < n; x += kKeys) _mm256_storeu_ps(s + x, _mm256_setzero_ps());
    return;
  }
  // p = 2^t with t = s log2e + b in one FMA, b = -mx log2e rounded once (the span's terms all share that rounding,
  // a factor within |mx| 2^-24 of 1 on o and l alike); t clamped at -125 (e^-87, where expVec gives 0; 2^-125 is a
  // normal float, negligible against the max's term 1); 2^t = 2^round(t) 2^f, f in [-1/2, 1/2] by rowpass_avx2.cpp's
  // degree-5 fit (relative error 2.3e-7), round(t) + 127 in the low bits of t + 1.5 2^23 + 127. Two sums, for two
  // add chains (branch attn4's version, benchmarks/README.md).
  const __m256 lg = _mm256_set1_ps(1.44269504088896341f), bv = _mm256_set1_ps(-mx * 1.44269504088896341f);
  const __m256 lo = _mm256_set1_ps(-125.0f), magic = _mm256_set1_ps(12583039.0f);
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  for (x = 0; x < n; x += kKeys) {
    const __m256 t = _mm256_max_ps(lo, _mm256_fmadd_ps(_mm256_loadu_ps(s + x), lg, bv));
    const __m256 yt = _mm256_add_ps(t, magic);
    const __m256 f = _mm256_sub_ps(t, _mm256_sub_ps(yt, magic));
    __m256 pv = _mm256_mul_ps(exp2Fraction(f), _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(yt), 23)));
    if (x + kKeys > valid) pv = _mm256_and_ps(lanesBelow(valid - x), pv);
    _mm256_storeu_ps(s + x, pv);
    if (x & kKeys) sum1 = _mm256_add_ps(sum1, pv);
    else sum0 = _mm256_add_ps(sum0, pv);
  }
  const __m256 sum = _mm256_add_ps(sum0, sum1);
  corr = _mm256_cvtss_f32(expVec(_mm256_set1_ps(m - mx)));  // 0 when m was -inf (o and l are 0)
  l = l * corr + hsum(sum);
  m = mx;
}

/** The body for D = 8 * NC; same state and online softmax as decodeRangeAvx512 (one update per span). */
template <long NC>
void decodeRangeFixed(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m,
                      float* l, float* work, bool fresh) {
  constexpr long d = 8 * NC;
  const long G = a.h / a.hkv, R = G * a.t;
  float* qs = work;              // (R, D) scaled queries
  float* sc = qs + R * d;        // (R, kSpan) scores, then probabilities
  float* corr = sc + R * kSpan;  // (R,) rescale factors of this span
  for (long r = 0; r < R; r++) {
    const float* src = io.q + a.qRow(bb, r / G, g * G + r % G);
    for (long x = 0; x < d; x++) qs[r * d + x] = src[x] * a.scale;
    if (!fresh) continue;
    for (long x = 0; x < d; x++) o[r * d + x] = 0.0f;
    m[r] = -__builtin_inff();
    l[r] = 0.0f;
  }
  const long step = a.ks;  // floats between consecutive keys of one kv head
  Ahead ah{reinterpret_cast<const char*>(io.k + pfAt), reinterpret_cast<const char*>(io.v + pfAt), (pfLen + 15) / 16};
  // the requests spread evenly over the score blocks and the P V tiles of the range
  const long keys = j1 - j0, slots = (keys + kKeys - 1) / kKeys + (keys + kPvKeys - 1) / kPvKeys * (R / 2 * (d / 32) + R % 2 * (d / 64));
  const long perSlot = (ah.lines + slots - 1) / maxL(1, slots);
  for (long c0 = j0; c0 < j1; c0 += kSpan) {
    const long n = minL(kSpan, j1 - c0);
    // (1) scores, key block outer (on a range's first span its value rows are requested into L2 meanwhile)
    for (long jb = 0; jb < n; jb += kKeys) {
      const long nb = minL(kKeys, n - jb);
      const float* kb = io.k + a.kRow(bb, c0 + jb, g);
      if (fresh && c0 == j0) {
        const char* vb = reinterpret_cast<const char*>(io.v + a.kRow(bb, c0 + jb, g));
        for (long j = 0; j < nb; j++)
          for (long x = 0; x < d * 4; x += 64) _mm_prefetch(vb + j * step * 4 + x, _MM_HINT_T1);
      }
      ah.issue(perSlot);
      const float* kr[kKeys];  // past the last key (nb < 8): key 0 again, its score masked by the softmax
      for (long j = 0; j < kKeys; j++) kr[j] = kb + (j < nb ? j : 0) * step;
      long r = 0;
      for (; r + 2 <= R; r += 2) {
        float* s0 = sc + r * kSpan + jb;
        scores2x4<NC>(qs + r * d, qs + (r + 1) * d, kr, s0, s0 + kSpan);
        scores2x4<NC>(qs + r * d, qs + (r + 1) * d, kr + 4, s0 + 4, s0 + kSpan + 4);
      }
      if (r < R) scores8<NC>(qs + r * d, kr, sc + r * kSpan + jb);
    }
    // (2) softmax of each row over the span, then the running outputs rescaled
    for (long r = 0; r < R; r++) {
      softmaxSpan(sc + r * kSpan, n, minL(n, a.hi(bb, r / G) + 1 - c0), m[r], l[r], corr[r]);
      if (corr[r] == 1.0f) continue;
      const __m256 cv = _mm256_set1_ps(corr[r]);
      for (long x = 0; x < d; x += 8) _mm256_storeu_ps(o + r * d + x, _mm256_mul_ps(cv, _mm256_loadu_ps(o + r * d + x)));
    }
    // (3) P V: per 32-key block, query rows two at a time over 32 output columns, an odd last row over 64
    for (long kb = 0; kb < n; kb += kPvKeys) {
      const long nk = minL(kPvKeys, n - kb);
      const float* vb = io.v + a.kRow(bb, c0 + kb, g);
      long r = 0;
      for (; r + 2 <= R; r += 2)
        for (long col = 0; col < d; col += 32) {
          pvTile<2, 4>(vb + col, step, nk, sc + r * kSpan + kb, o + r * d + col, d);
          ah.issue(perSlot);
        }
      if (r < R)
        for (long col = 0; col < d; col += 64) {
          pvTile<1, 8>(vb + col, step, nk, sc + r * kSpan + kb, o + r * d + col, d);
          ah.issue(perSlot);
        }
    }
  }
  ah.issue(ah.lines);
}

}  // namespace

bool decodeRangeAvx2(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m,
                     float* l, float* work, bool fresh) {
  switch (a.d) {
    case 64:
      decodeRangeFixed<8>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    case 128:
      decodeRangeFixed<16>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    default:
      return false;
  }
}

}  // namespace lwz

#pragma GCC pop_options
