// AVX-512 body of the decode attention (attention_decode.cpp) for head dims that are a multiple of 16. Per span
// of up to 256 keys: the scores of every query row (per 16 keys, the 16 partial dot products summed by a
// transpose-reduce into one vector of 16 scores), then one softmax update per row over the whole span (a
// vectorised exp with independent lanes), then P V with each value row loaded once per group of query rows and
// the outputs in registers. Meanwhile the next span's K and V rows are requested from memory, spread over the
// arithmetic (struct Ahead). Compiled for AVX-512 through a target pragma and only called after run-time
// detection; no standard-library code follows the pragma.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "attention.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

namespace lwz {
namespace {

constexpr long kKeys = 16;             // keys per score vector
constexpr long kSpan = kDecodeSpan;     // keys per softmax update

/** e^x lane by lane (the fastExp polynomial of vecmath.h); 0 below -87, so -inf gives 0. */
inline __m512 expVec(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.0f);
  const __m512 cx = _mm512_min_ps(_mm512_max_ps(x, lo), _mm512_set1_ps(88.0f));
  const __m512 fn = _mm512_roundscale_ps(_mm512_fmadd_ps(cx, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
                                         _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fmadd_ps(fn, _mm512_set1_ps(2.12194440e-4f), _mm512_fnmadd_ps(fn, _mm512_set1_ps(0.693359375f), cx));
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fn), _mm512_set1_epi32(127)), 23);
  const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ), _mm512_mul_ps(y, _mm512_castsi512_ps(bits)));
  // a NaN score stays NaN (the ref's row goes NaN): the clamp and the ordered compare above would make it 0
  return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

/**
 * The next span's K and V lines this body still has to request (its share: 1 / Hkv of the span's bytes, all
 * kv heads' rows being interleaved), a few at a time between the arithmetic of this span, so memory is busy
 * while the arithmetic runs instead of the next span's loads waiting on it. Into L1 (T0): on Zen 5 (48 KiB L1d)
 * the attention took 8-12% less time than with T1 (L2) at 4k and 16k keys; on Zen 3 the two measured the same
 * (benchmarks/README.md, sections "2026-11-30 06:16" and attn5).
 */
struct Ahead {
  const char *k, *v;
  long lines;
  void issue(long count) {
    for (; count > 0 && lines > 0; count--, lines--, k += 64, v += 64) {
      _mm_prefetch(k, _MM_HINT_T0);
      _mm_prefetch(v, _MM_HINT_T0);
    }
  }
};

/**
 * Lane j of the result = the sum of the 16 lanes of a[j], a transpose-reduce in four halving rounds: two of
 * in-lane shuffles (unpack, shuffle_ps), then two of whole 128-bit blocks (shuffle_f32x4), none of the
 * two-source cross-lane permutes (vpermt2ps) that it took before (0-3 % faster on Zen 5 with the same adds,
 * never slower; section "2026-11-30 06:16" of benchmarks/README.md).
 */
inline __m512 sum16(__m512* a) {
  __m512 b[8], c[4], d[2];
  // b[i], per 128-bit block: partials of a[2i], a[2i+1], a[2i], a[2i+1]
  for (int i = 0; i < 8; i++) b[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  // c[i], per block: one partial of each of a[4i .. 4i + 3]
  for (int i = 0; i < 4; i++)
    c[i] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  // d[i]: blocks 0, 1 hold partials of a[8i .. 8i + 3], blocks 2, 3 of a[8i + 4 .. 8i + 7]
  for (int i = 0; i < 2; i++)
    d[i] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

/**
 * P V for query rows [r0, r0 + RB) over the span's keys: each value row is loaded once for all RB rows, whose
 * outputs (RB x NC vectors) stay in registers as RB * NC independent FMA chains.
 */
template <long NC, long RB>
void pvRows(const AttnDims& a, const FwdIo& io, long bb, long g, long c0, long n, const float* p, const float* corr, float* o, Ahead& ah) {
  constexpr long d = 16 * NC;
  __m512 acc[RB][NC];
  for (long rr = 0; rr < RB; rr++) {
    const __m512 cv = _mm512_set1_ps(corr[rr]);
    for (long c = 0; c < NC; c++) acc[rr][c] = _mm512_mul_ps(_mm512_loadu_ps(o + rr * d + 16 * c), cv);
  }
  const long step = a.ks;  // floats between consecutive keys of one kv head
  const float* vr = io.v + a.kRow(bb, c0, g);
  for (long j = 0; j < n; j++, vr += step) {
    ah.issue(1);
    __m512 vv[NC];
    for (long c = 0; c < NC; c++) vv[c] = _mm512_loadu_ps(vr + 16 * c);
    for (long rr = 0; rr < RB; rr++) {
      const __m512 pj = _mm512_set1_ps(p[rr * kSpan + j]);
      for (long c = 0; c < NC; c++) acc[rr][c] = _mm512_fmadd_ps(pj, vv[c], acc[rr][c]);
    }
  }
  for (long rr = 0; rr < RB; rr++)
    for (long c = 0; c < NC; c++) _mm512_storeu_ps(o + rr * d + 16 * c, acc[rr][c]);
}

/**
 * The body for D = 16 * NC (NC a compile-time constant, so the query and accumulators stay in registers). Keys
 * are taken in spans of up to kSpan: (1) the scores of every query row over the span (sixteen keys at a time,
 * transpose-reduced into one vector), (2) per row one max, one rescale of the running state and a vectorised
 * exp over the whole span (independent lanes, no per-16-key dependency chain through m and l), (3) P V with
 * each value row loaded once per group of query rows. Same online softmax as the portable body, with the
 * running max updated once per span instead of once per 32 keys.
 */
template <long NC>
void decodeRangeFixed(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m, float* l, float* work, bool fresh) {
  constexpr long d = 16 * NC, nc = NC;
  constexpr long RB = NC >= 6 ? 2 : 4;  // query rows per P V group: RB * NC accumulators + NC value vectors
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
  // half of the requests during the scores, spread over a block's query rows (perRow before each, one more before the
  // first `extra` rows: with all of a block's at its start the attention took 4-14 % more time at 4k and 16k keys on
  // Zen 5, benchmarks/README.md "2026-11-30 08:37"), one per value row during P V, the rest at the end
  const long blocks = (j1 - j0 + kKeys - 1) / kKeys, perBlock = (ah.lines + 2 * blocks - 1) / maxL(1, 2 * blocks);
  const long perRow = perBlock / R, extra = perBlock % R;
  for (long c0 = j0; c0 < j1; c0 += kSpan) {
    const long n = minL(kSpan, j1 - c0);
    // (1) scores (on a range's first span its value rows are requested into L2 meanwhile, for (3))
    for (long jb = 0; jb < n; jb += kKeys) {
      const long nb = minL(kKeys, n - jb);
      const float* kb = io.k + a.kRow(bb, c0 + jb, g);
      const char* vb = reinterpret_cast<const char*>(io.v + a.kRow(bb, c0 + jb, g));
      if (fresh && c0 == j0)  // the first span of a range was not requested by a previous one
        for (long j = 0; j < nb; j++)
          for (long x = 0; x < d * 4; x += 64) _mm_prefetch(vb + j * step * 4 + x, _MM_HINT_T1);
      for (long r = 0; r < R; r++) {
        ah.issue(perRow + (r < extra ? 1 : 0));
        __m512 q[NC];
        for (long c = 0; c < nc; c++) q[c] = _mm512_loadu_ps(qs + r * d + 16 * c);
        __m512 part[kKeys];
        for (long j = 0; j < kKeys; j++) {
          const float* kr = kb + (j < nb ? j : 0) * step;
          __m512 s = _mm512_mul_ps(q[0], _mm512_loadu_ps(kr));
          for (long c = 1; c < nc; c++) s = _mm512_fmadd_ps(q[c], _mm512_loadu_ps(kr + 16 * c), s);
          part[j] = s;
        }
        _mm512_storeu_ps(sc + r * kSpan + jb, sum16(part));
      }
    }
    // (2) softmax of each row over the span
    for (long r = 0; r < R; r++) {
      float* s = sc + r * kSpan;
      const long valid = minL(n, a.hi(bb, r / G) + 1 - c0);  // this query sees keys c0 .. c0 + valid - 1
      const auto maskAt = [&](long x) {
        const long left = valid - x;
        return left >= kKeys ? static_cast<__mmask16>(0xffff) : left <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << left) - 1);
      };
      __m512 mv = _mm512_set1_ps(-__builtin_inff());
      for (long x = 0; x < valid; x += kKeys) mv = _mm512_mask_max_ps(mv, maskAt(x), mv, _mm512_loadu_ps(s + x));
      const float top = _mm512_reduce_max_ps(mv);
      const float mx = top > m[r] ? top : m[r];
      if (mx == -__builtin_inff()) {  // nothing visible yet: p = 0, state unchanged
        corr[r] = 1.0f;
        for (long x = 0; x < n; x += kKeys) _mm512_storeu_ps(s + x, _mm512_setzero_ps());
        continue;
      }
      const __m512 mxv = _mm512_set1_ps(mx);
      __m512 sum = _mm512_setzero_ps();
      for (long x = 0; x < n; x += kKeys) {
        const __m512 pv = _mm512_maskz_mov_ps(maskAt(x), expVec(_mm512_sub_ps(_mm512_loadu_ps(s + x), mxv)));
        _mm512_storeu_ps(s + x, pv);
        sum = _mm512_add_ps(sum, pv);
      }
      corr[r] = _mm512_cvtss_f32(expVec(_mm512_set1_ps(m[r] - mx)));  // 0 when m was -inf (o and l are 0)
      l[r] = l[r] * corr[r] + _mm512_reduce_add_ps(sum);
      m[r] = mx;
    }
    // (3) P V, value rows shared by groups of RB query rows
    long r0 = 0;
    for (; r0 + RB <= R; r0 += RB) pvRows<NC, RB>(a, io, bb, g, c0, n, sc + r0 * kSpan, corr + r0, o + r0 * d, ah);
    if (RB == 4 && r0 + 3 == R) {
      pvRows<NC, 3>(a, io, bb, g, c0, n, sc + r0 * kSpan, corr + r0, o + r0 * d, ah);
      r0 += 3;
    }
    for (; r0 + 2 <= R; r0 += 2) pvRows<NC, 2>(a, io, bb, g, c0, n, sc + r0 * kSpan, corr + r0, o + r0 * d, ah);
    if (r0 < R) pvRows<NC, 1>(a, io, bb, g, c0, n, sc + r0 * kSpan, corr + r0, o + r0 * d, ah);
  }
  ah.issue(ah.lines);
}

}  // namespace

bool decodeRangeAvx512(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m,
                       float* l, float* work, bool fresh) {
  switch (a.d) {
    case 64:
      decodeRangeFixed<4>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    case 128:
      decodeRangeFixed<8>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    case 32:
      decodeRangeFixed<2>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    case 16:
      decodeRangeFixed<1>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    case 96:
      decodeRangeFixed<6>(a, io, bb, g, j0, j1, pfAt, pfLen, o, m, l, work, fresh);
      return true;
    default:
      return false;
  }
}

}  // namespace lwz

#pragma GCC pop_options
