// AVX-512 micro-kernels: a 12x32 register tile for GEMM (24 zmm accumulators, FMA; edge tiles run the same
// code with fewer rows and masked columns), a 4-row dot product
// for the transB GEMV and an 8-row axpy for the plain GEMV. Compiled for AVX-512 through a target pragma
// and only called after run-time detection; no standard-library code follows the pragma.
// GCC 12 reports a false -Wmaybe-uninitialized inside its own AVX-512 cast intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

namespace lwz {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;

// Accumulate R rows (R <= MR) of the tile in registers; columns past `cols` are masked off at the store
// (the packed B panel is zero-padded, so they are computed and dropped).
template <int R>
void tile(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate, int cols) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    c0[i] = c1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
      const __m512 av = _mm512_set1_ps(ap[i]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
    ap += MR;
    bp += NR;
  }
  const __m512 al = _mm512_set1_ps(alpha);
  const __mmask16 m0 = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? static_cast<__mmask16>((1u << (cols - 16)) - 1) : 0;
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    float* row = c + i * ldc;
    __m512 v0 = _mm512_mul_ps(al, c0[i]), v1 = _mm512_mul_ps(al, c1[i]);
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate, int rows, int cols) {
  switch (rows) {
    case 12: return tile<12>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 11: return tile<11>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 10: return tile<10>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 9: return tile<9>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 8: return tile<8>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 7: return tile<7>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 6: return tile<6>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 5: return tile<5>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 4: return tile<4>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 3: return tile<3>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 2: return tile<2>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    default: return tile<1>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
  }
}

inline float hsum(__m512 v) {
  __m512 hi = _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_castps512_ps256(hi));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float finish(float v, float alpha, bool accumulate, float old) { return alpha * v + (accumulate ? old : 0.0f); }

// Four row streams at once, rows j, j + s, j + 2s, j + 3s with s = rows / 4, as the AVX2 dotRows (which says
// why): each stream reads one contiguous run of rows front to back, so the hardware prefetchers follow it across
// row ends, with no software prefetch. On Zen 5 1.05-1.22x faster than 4 adjacent rows with each stream prefetched
// 8 KiB ahead into L2 (1x4096x4096 Bt 1.22x; benchmarks/README.md, "2026-11-30 06:16").
void dotRows(const float* w, long ldw, long rows, const float* x, long k, float* out, float alpha, bool accumulate) {
  const long s = rows / 4;
  const long full = k / 32 * 32;
  const __mmask16 m = static_cast<__mmask16>((1u << (k & 15)) - 1);
  for (long j = 0; j < s; j++) {
    const float* w0 = w + j * ldw;
    const float* w1 = w0 + s * ldw;
    const float* w2 = w1 + s * ldw;
    const float* w3 = w2 + s * ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long p = 0;
    for (; p < full; p += 32) {
      __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + p), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + p), x0, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + p), x0, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + p), x0, a3);
      b0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + p + 16), x1, b0);
      b1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + p + 16), x1, b1);
      b2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + p + 16), x1, b2);
      b3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + p + 16), x1, b3);
    }
    for (; p + 16 <= k; p += 16) {
      __m512 x0 = _mm512_loadu_ps(x + p);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + p), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + p), x0, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + p), x0, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + p), x0, a3);
    }
    if (p < k) {
      __m512 x0 = _mm512_maskz_loadu_ps(m, x + p);
      a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + p), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + p), x0, a1);
      a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + p), x0, a2);
      a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + p), x0, a3);
    }
    float* o = out + j;
    o[0] = finish(hsum(_mm512_add_ps(a0, b0)), alpha, accumulate, o[0]);
    o[s] = finish(hsum(_mm512_add_ps(a1, b1)), alpha, accumulate, o[s]);
    o[2 * s] = finish(hsum(_mm512_add_ps(a2, b2)), alpha, accumulate, o[2 * s]);
    o[3 * s] = finish(hsum(_mm512_add_ps(a3, b3)), alpha, accumulate, o[3 * s]);
  }
  for (long r = 4 * s; r < rows; r++) {  // the last rows % 4 rows
    const float* w0 = w + r * ldw;
    __m512 a0 = _mm512_setzero_ps();
    long p = 0;
    for (; p + 16 <= k; p += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + p), _mm512_loadu_ps(x + p), a0);
    if (p < k) a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + p), _mm512_maskz_loadu_ps(m, x + p), a0);
    out[r] = finish(hsum(a0), alpha, accumulate, out[r]);
  }
}

// y[j] += sum_{i < R} x[i * xs] * r0[i * rs + j] for j < n: R rows `rs` floats apart at once (y loaded and stored once
// per R rows).
template <int R>
inline void axpyBlock(const float* r0, long rs, long n, const float* x, long xs, float* y) {
  const float* r[R];
  __m512 xv[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    r[i] = r0 + i * rs;
    xv[i] = _mm512_set1_ps(x[i * xs]);
  }
  auto step = [&](long j, __mmask16 m) {
    __m512 s = _mm512_fmadd_ps(xv[0], _mm512_maskz_loadu_ps(m, r[0] + j), _mm512_maskz_loadu_ps(m, y + j));
    __m512 t = _mm512_mul_ps(xv[1], _mm512_maskz_loadu_ps(m, r[1] + j));
#pragma GCC unroll 8
    for (int i = 2; i < R; i += 2) {
      s = _mm512_fmadd_ps(xv[i], _mm512_maskz_loadu_ps(m, r[i] + j), s);
      t = _mm512_fmadd_ps(xv[i + 1], _mm512_maskz_loadu_ps(m, r[i + 1] + j), t);
    }
    _mm512_mask_storeu_ps(y + j, m, _mm512_add_ps(s, t));
  };
  long j = 0;
  for (; j + 16 <= n; j += 16) step(j, 0xffff);
  if (j < n) step(j, static_cast<__mmask16>((1u << (n - j)) - 1));
}

void axpyRows(const float* w, long ldw, long k, long n, const float* x, float* y) {
  // Eight row streams at once, rows p, p + s, ..., p + 7s with s = k / 8, each reading one contiguous run of rows
  // front to back, no software prefetch, as the AVX2 axpyRows. On Zen 5 1.10-1.13x faster than 8 adjacent rows
  // with the next 8 prefetched into L2 (which had measured 1.25x faster than 4 adjacent rows on Zen 4);
  // benchmarks/README.md, "2026-11-30 06:16".
  const long s = k / 8;
  for (long p = 0; p < s; p++) axpyBlock<8>(w + p * ldw, s * ldw, n, x + p, s, y);
  long p = 8 * s;  // the last k % 8 rows
  for (; p + 2 <= k; p += 2) axpyBlock<2>(w + p * ldw, ldw, n, x + p, 1, y);
  if (p < k) {
    const float* r0 = w + p * ldw;
    const __m512 x0 = _mm512_set1_ps(x[p]);
    long j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(y + j, _mm512_fmadd_ps(x0, _mm512_loadu_ps(r0 + j), _mm512_loadu_ps(y + j)));
    if (j < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
      _mm512_mask_storeu_ps(y + j, m, _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, r0 + j), _mm512_maskz_loadu_ps(m, y + j)));
    }
  }
}

}  // namespace

const GemmKernels& kernelsAvx512() {
  static const GemmKernels k{Isa::avx512, MR, NR, micro, dotRows, axpyRows};
  return k;
}

}  // namespace lwz

#pragma GCC pop_options
