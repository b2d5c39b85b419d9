// AVX2+FMA micro-kernels: a 6x16 register tile for GEMM (12 ymm accumulators; edge tiles with fewer rows and
// masked columns), a 4-stream dot product for the
// transB GEMV and an 8-stream axpy for the plain GEMV. Compiled for AVX2 through a target pragma and
// only called after run-time detection; no standard-library code follows the pragma.
#include <immintrin.h>

#include "gemm.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace lwz {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
// The block path sweeps 4 A panels against each B panel in turn (GemmKernels::rowGroup): a (kc, 16) B panel is 64
// bytes a depth step against the A panel's 24; read from L2 once per A panel, a 1020x512x144 block ran at ~80-83 %
// of this kernel's L1-resident speed on Zen 3, once per 4 panels at ~84-86 % (benchmarks/README.md).
constexpr int kRowGroup = 4;
// Transposed A with 3 row groups a thread and op(B) up to 2 nc wide takes the shallow few-columns slice with its rows
// shared by lines (GemmKernels::shallowBalancedColumns): the block path's serial packs at kc 1024 cost it 0.81x
// OpenBLAS on dy^T x 256x2048x256 (Zen 5, LWZ_ISA=avx2), 0.96x this way; at 3.7 nc (704 columns) 0.93x the block path.
constexpr int kShallowBalancedColumns = 2;

// Column masks for _mm256_maskload/maskstore: lanes [0, cols) of a row of 8.
inline __m256i laneMask(int cols) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), idx);
}

// Accumulate R rows (R <= MR) of the tile in registers; a partial tile (cols < NR) stores through lane masks
// (the packed B panel is zero-padded, so the extra columns are computed and dropped).
template <int R>
void tile(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate, int cols) {
  __m256 c0[R], c1[R];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    c0[i] = c1[i] = _mm256_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  }
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m256 av = _mm256_broadcast_ss(ap + i);
      c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
    }
    ap += MR;
    bp += NR;
  }
  const __m256 al = _mm256_set1_ps(alpha);
  if (cols >= NR) {
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      float* row = c + i * ldc;
      __m256 v0 = _mm256_mul_ps(al, c0[i]), v1 = _mm256_mul_ps(al, c1[i]);
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    }
    return;
  }
  const __m256i m0 = laneMask(cols), m1 = laneMask(cols - 8);
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    float* row = c + i * ldc;
    __m256 v0 = _mm256_mul_ps(al, c0[i]), v1 = _mm256_mul_ps(al, c1[i]);
    if (accumulate) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(row, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(row + 8, m1));
    }
    _mm256_maskstore_ps(row, m0, v0);
    _mm256_maskstore_ps(row + 8, m1, v1);
  }
}

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, bool accumulate, int rows, int cols) {
  switch (rows) {
    case 6: return tile<6>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 5: return tile<5>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 4: return tile<4>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 3: return tile<3>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    case 2: return tile<2>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
    default: return tile<1>(kc, ap, bp, c, ldc, alpha, accumulate, cols);
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float finish(float v, float alpha, bool accumulate, float old) { return alpha * v + (accumulate ? old : 0.0f); }

// Four row streams at once, rows j, j + s, j + 2s, j + 3s with s = rows / 4: each stream reads one contiguous run
// of rows front to back, so Zen 3's hardware prefetchers follow it across row ends. With 4 adjacent rows per
// block every stream jumped 4 rows at each row's end and had to be picked up again, and the software prefetch
// 8 KiB ahead (copied from the AVX-512 dotRows of the time) did not cover the next block's rows: 0.78-0.87x OpenBLAS at
// 1x4096x4096 Bt, about half a plain read at the ~100M model's 768-wide rows (issue #15, gemv2 in
// benchmarks/README.md). No software prefetch: every prefetching variant measured slower than none here.
void dotRows(const float* w, long ldw, long rows, const float* x, long k, float* out, float alpha, bool accumulate) {
  const long s = rows / 4;
  for (long j = 0; j < s; j++) {
    const float* w0 = w + j * ldw;
    const float* w1 = w0 + s * ldw;
    const float* w2 = w1 + s * ldw;
    const float* w3 = w2 + s * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long p = 0;
    for (; p + 16 <= k; p += 16) {
      __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + p), x0, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p), x0, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + p), x0, a3);
      b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 8), x1, b0);
      b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + p + 8), x1, b1);
      b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p + 8), x1, b2);
      b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + p + 8), x1, b3);
    }
    float s0 = hsum(_mm256_add_ps(a0, b0)), s1 = hsum(_mm256_add_ps(a1, b1));
    float s2 = hsum(_mm256_add_ps(a2, b2)), s3 = hsum(_mm256_add_ps(a3, b3));
    for (; p < k; p++) {
      s0 += w0[p] * x[p];
      s1 += w1[p] * x[p];
      s2 += w2[p] * x[p];
      s3 += w3[p] * x[p];
    }
    float* o = out + j;
    o[0] = finish(s0, alpha, accumulate, o[0]);
    o[s] = finish(s1, alpha, accumulate, o[s]);
    o[2 * s] = finish(s2, alpha, accumulate, o[2 * s]);
    o[3 * s] = finish(s3, alpha, accumulate, o[3 * s]);
  }
  for (long r = 4 * s; r < rows; r++) {  // the last rows % 4 rows
    const float* w0 = w + r * ldw;
    __m256 a0 = _mm256_setzero_ps();
    long p = 0;
    for (; p + 8 <= k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), _mm256_loadu_ps(x + p), a0);
    float v = hsum(a0);
    for (; p < k; p++) v += w0[p] * x[p];
    out[r] = finish(v, alpha, accumulate, out[r]);
  }
}

// y[j] += sum_{i < R} x[i * xs] * w[i * rs + j] for j < n: R rows `rs` floats apart at once (y loaded and stored
// once per R rows).
template <int R>
inline void axpyBlock(const float* r0, long rs, long n, const float* x, long xs, float* y) {
  const float* r[R];
  __m256 xv[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    r[i] = r0 + i * rs;
    xv[i] = _mm256_set1_ps(x[i * xs]);
  }
  auto step = [&](long j) {
    __m256 s = _mm256_fmadd_ps(xv[0], _mm256_loadu_ps(r[0] + j), _mm256_loadu_ps(y + j));
    __m256 t = _mm256_mul_ps(xv[1], _mm256_loadu_ps(r[1] + j));
#pragma GCC unroll 8
    for (int i = 2; i < R; i += 2) {
      s = _mm256_fmadd_ps(xv[i], _mm256_loadu_ps(r[i] + j), s);
      t = _mm256_fmadd_ps(xv[i + 1], _mm256_loadu_ps(r[i + 1] + j), t);
    }
    _mm256_storeu_ps(y + j, _mm256_add_ps(s, t));
  };
  long j = 0;
  for (; j + 16 <= n; j += 16) {
    step(j);
    step(j + 8);
  }
  for (; j + 8 <= n; j += 8) step(j);
  for (; j < n; j++) {
    float v = 0.0f;
    for (int i = 0; i < R; i++) v += x[i * xs] * r[i][j];
    y[j] += v;
  }
}

void axpyRows(const float* w, long ldw, long k, long n, const float* x, float* y) {
  // Eight row streams at once, rows p, p + s, ..., p + 7s with s = k / 8, each reading one contiguous run of rows
  // front to back (the dotRows above says why); no software prefetch. 8 adjacent rows per pass with the next 8
  // prefetched into L2 (the AVX-512 axpyRows of the time) measured 0.75-0.8x of this (gemv2 in benchmarks/README.md).
  const long s = k / 8;
  for (long p = 0; p < s; p++) axpyBlock<8>(w + p * ldw, s * ldw, n, x + p, s, y);
  long p = 8 * s;  // the last k % 8 rows
  for (; p + 2 <= k; p += 2) axpyBlock<2>(w + p * ldw, ldw, n, x + p, 1, y);
  if (p < k) {
    const float* r0 = w + p * ldw;
    const __m256 x0 = _mm256_set1_ps(x[p]);
    long j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_fmadd_ps(x0, _mm256_loadu_ps(r0 + j), _mm256_loadu_ps(y + j)));
    for (; j < n; j++) y[j] += x[p] * r0[j];
  }
}

}  // namespace

const GemmKernels& kernelsAvx2() {
  static const GemmKernels k{Isa::avx2, MR, NR, micro, dotRows, axpyRows, kRowGroup, kShallowBalancedColumns};
  return k;
}

}  // namespace lwz

#pragma GCC pop_options
