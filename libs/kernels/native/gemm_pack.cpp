// Packing for the GEMM driver: op(A) rows into (kc, MR) panels and op(B) columns into (kc, NR) panels, both
// zero-padded past the matrix edge. Two memory orders per operand: a contiguous copy when the packed index
// runs along memory (transposed A, plain B), an 8x8-block transpose (AVX when the ISA has it) otherwise.
#include <immintrin.h>

#include "gemm.h"

namespace lwz {
namespace {

// Rows of plain B packBRows prefetches ahead of the one it copies.
constexpr long kPackAhead = 4;

#pragma GCC push_options
#pragma GCC target("avx2")
// dst[p * ds + i] = src[i * ls + p] for i, p < 8
inline void transpose8x8(const float* src, long ls, float* dst, long ds) {
  __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ls), r2 = _mm256_loadu_ps(src + 2 * ls);
  __m256 r3 = _mm256_loadu_ps(src + 3 * ls), r4 = _mm256_loadu_ps(src + 4 * ls), r5 = _mm256_loadu_ps(src + 5 * ls);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ls), r7 = _mm256_loadu_ps(src + 7 * ls);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
  __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  r0 = _mm256_shuffle_ps(t0, t2, 0x44);
  r1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  r2 = _mm256_shuffle_ps(t1, t3, 0x44);
  r3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  r4 = _mm256_shuffle_ps(t4, t6, 0x44);
  r5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  r6 = _mm256_shuffle_ps(t5, t7, 0x44);
  r7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(r0, r4, 0x20));
  _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(r1, r5, 0x20));
  _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(r2, r6, 0x20));
  _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(r3, r7, 0x20));
  _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(r0, r4, 0x31));
  _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(r1, r5, 0x31));
  _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(r2, r6, 0x31));
  _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(r3, r7, 0x31));
}

// scatterPieces (below) for 6-wide pieces with vector moves: two pieces (12 floats) per one 8- and one 4-float load,
// each piece stored as 4 + 2 floats. The scalar copy (12 loads and stores a piece) was most of packATransposed's time
// on Zen 3.
void scatterPieces6Avx(const float* src, long ls, long full, long kc, long depth, float* dst) {
  const long pair = full / 12 * 12;
  for (long p = 0; p < depth; p++) {
    const float* s = src + p * ls;
    float* d = dst + p * 6;
    long ir = 0;
    for (; ir < pair; ir += 12) {
      const __m256 x = _mm256_loadu_ps(s + ir);
      const __m128 lo = _mm256_castps256_ps128(x), hi = _mm256_extractf128_ps(x, 1), y = _mm_loadu_ps(s + ir + 8);
      float* d0 = d + ir * kc;
      float* d1 = d0 + 6 * kc;
      _mm_storeu_ps(d0, lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(d0 + 4), hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d1), hi);
      _mm_storeu_ps(d1 + 2, y);
    }
    if (ir < full) {
      float* d0 = d + ir * kc;
      _mm_storeu_ps(d0, _mm_loadu_ps(s + ir));
      _mm_storel_pi(reinterpret_cast<__m64*>(d0 + 4), _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(s + ir + 4))));
    }
  }
}

// scatterPieces (below) for 12-wide pieces with vector moves: each piece as one 8- and one 4-float load and store.
// The generic loop, a float at a time under baseline x86-64, took ~17 % of a one-thread dy^T x 1024x2048x256 on Zen 5
// (the 12x32 AVX-512 tile's transposed-A pack; benchmarks/README.md "2026-12-02 13:20").
void scatterPieces12Avx(const float* src, long ls, long full, long kc, long depth, float* dst) {
  for (long p = 0; p < depth; p++) {
    const float* s = src + p * ls;
    float* d = dst + p * 12;
    for (long ir = 0; ir < full; ir += 12) {
      _mm256_storeu_ps(d + ir * kc, _mm256_loadu_ps(s + ir));
      _mm_storeu_ps(d + ir * kc + 8, _mm_loadu_ps(s + ir + 8));
    }
  }
}

// packBRows' full panels with vector moves (nr a multiple of 8): row p's `full` columns into the panels, and
// the same columns kPackAhead rows further on prefetched. gcc's copy of the runtime-nr loop (SSE, with its
// checks) and the hardware prefetchers (which stop at each 4 KiB row of a 1024-float B) made packBRows ~2.5x
// OpenBLAS's pack of the same block on Zen 3, ~7 % of a one-thread 1024^3 (benchmarks/README.md).
void copyRowPiecesAvx(const float* src, long rs, long full, long kc, long p, long ahead, int nr, float* dst) {
  if (ahead > 0)
    for (long j = 0; j < full; j += 16) _mm_prefetch(reinterpret_cast<const char*>(src + ahead * rs + j), _MM_HINT_T0);
  float* d = dst + p * nr;
  for (long jr = 0; jr < full; jr += nr)
    for (long j = 0; j < nr; j += 8) _mm256_storeu_ps(d + jr * kc + j, _mm256_loadu_ps(src + jr + j));
}

// transposeRows for 6 rows into a (len8, 6) panel (ds 6), len8 a multiple of 8: 8 depths at a time, rows 6 and 7
// of the 8x8 transpose being copies of rows 4 and 5 (any readable memory); each depth's 8 lanes are stored whole at
// its 6 floats, the 2 lanes past them overwritten by the next depth's store, except at the panel's last depth. The
// scalar loop it replaces (6-row panels have no 8x8 blocks) was ~2x OpenBLAS's pack of the same A on Zen 3.
void transposeRows6Avx(const float* src, long ls, long len8, float* dst, bool lastBlockEnds) {
  const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  for (long p = 0; p < len8; p += 8) {
    const float* s = src + p;
    __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ls), r2 = _mm256_loadu_ps(s + 2 * ls);
    __m256 r3 = _mm256_loadu_ps(s + 3 * ls), r4 = _mm256_loadu_ps(s + 4 * ls), r5 = _mm256_loadu_ps(s + 5 * ls);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
    __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t4, 0x44), u5 = _mm256_shuffle_ps(t4, t4, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t5, 0x44), u7 = _mm256_shuffle_ps(t5, t5, 0xEE);
    float* d = dst + p * 6;
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + 6, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 12, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 18, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 30, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 36, _mm256_permute2f128_ps(u2, u6, 0x31));
    const __m256 last = _mm256_permute2f128_ps(u3, u7, 0x31);
    if (p + 8 < len8 || !lastBlockEnds)
      _mm256_storeu_ps(d + 42, last);
    else
      _mm256_maskstore_ps(d + 42, six, last);
  }
}

// dst[p * ds + i] = src[i * ls + p] for i < 4, p < 8: the 4 rows past a 12-row panel's 8x8 block.
inline void transpose4x8(const float* src, long ls, float* dst, long ds) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ls), r2 = _mm256_loadu_ps(src + 2 * ls);
  const __m256 r3 = _mm256_loadu_ps(src + 3 * ls);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
  const __m256 t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  _mm_storeu_ps(dst, _mm256_castps256_ps128(u0));
  _mm_storeu_ps(dst + ds, _mm256_castps256_ps128(u1));
  _mm_storeu_ps(dst + 2 * ds, _mm256_castps256_ps128(u2));
  _mm_storeu_ps(dst + 3 * ds, _mm256_castps256_ps128(u3));
  _mm_storeu_ps(dst + 4 * ds, _mm256_extractf128_ps(u0, 1));
  _mm_storeu_ps(dst + 5 * ds, _mm256_extractf128_ps(u1, 1));
  _mm_storeu_ps(dst + 6 * ds, _mm256_extractf128_ps(u2, 1));
  _mm_storeu_ps(dst + 7 * ds, _mm256_extractf128_ps(u3, 1));
}

// The 8x8-block part of transposeRows: rows [0, rows8) x depth [0, len8), and with rows4 a further 4 rows in 4x8
// blocks.
void transposeBlocksAvx(const float* src, long ls, long rows8, bool rows4, long len8, float* dst, long ds) {
  for (long p = 0; p < len8; p += 8) {
    for (long i = 0; i < rows8; i += 8) transpose8x8(src + i * ls + p, ls, dst + p * ds + i, ds);
    if (rows4) transpose4x8(src + rows8 * ls + p, ls, dst + p * ds + rows8, ds);
  }
}
#pragma GCC pop_options

// dst[p * ds + i] = src[i * ls + p] for i < rows, p < len: `rows` strided rows become a (len, rows) panel.
void transposeRows(const float* src, long ls, long rows, long len, float* dst, long ds) {
  long rowsVec = 0, len8 = 0;  // rows [0, rowsVec) x depth [0, len8) are the vector code's
  if (isa() != Isa::generic) {
    len8 = len / 8 * 8;
    if (rows == 6 && ds == 6) {  // whole 6-row panels (packA's for the 6x16 tile)
      rowsVec = 6;
      transposeRows6Avx(src, ls, len8, dst, len8 == len);
    } else {
      // whole 8-row blocks, then 4 rows more when at least 4 remain (12-row panels: the 12x32 tile's packA)
      const long rows8 = rows / 8 * 8;
      const bool rows4 = rows - rows8 >= 4;
      rowsVec = rows8 + (rows4 ? 4 : 0);
      transposeBlocksAvx(src, ls, rows8, rows4, len8, dst, ds);
    }
  }
  for (long p = 0; p < len8; p++)
    for (long i = rowsVec; i < rows; i++) dst[p * ds + i] = src[i * ls + p];
  for (long p = len8; p < len; p++)
    for (long i = 0; i < rows; i++) dst[p * ds + i] = src[i * ls + p];
}

// dst[ir * kc + p * mr + i] = src[p * ls + ir + i] for ir < full (a multiple of mr), i < mr, p < depth: each
// row's MR-wide pieces into their (kc, MR) panels, a float at a time (gcc does not vectorise the piece copy: src and
// dst may overlap, as far as it knows). The generic ISA's (MR 4); the AVX tiles' 12- and 6-wide pieces have the
// vector copies above.
void scatterPieces(const float* src, long ls, long full, long kc, long depth, float* dst, long mr) {
  for (long p = 0; p < depth; p++) {
    const float* s = src + p * ls;
    float* d = dst + p * mr;
    for (long ir = 0; ir < full; ir += mr)
      for (long i = 0; i < mr; i++) d[ir * kc + i] = s[ir + i];
  }
}

}  // namespace

void packATransposed(const float* a, long cs, long m, long i0, long mc, long p0, long kc, long pFrom, long pTo, int mr,
                     float* dst) {
  // walk whole rows of op(A)^T (contiguous in memory), scattering MR-wide pieces into panels
  const long rows = maxL(0, minL(mc, m - i0)), full = rows / mr * mr;
  const float* src = a + (p0 + pFrom) * cs + i0;
  float* d = dst + pFrom * mr;
  // MR 12 and 6 are the AVX-512 and AVX2 tiles' (gemm.h kernelsFor), so only run where those ISAs are in use
  if (mr == 12 && isa() != Isa::generic)
    scatterPieces12Avx(src, cs, full, kc, pTo - pFrom, d);
  else if (mr == 6 && isa() != Isa::generic)
    scatterPieces6Avx(src, cs, full, kc, pTo - pFrom, d);
  else
    scatterPieces(src, cs, full, kc, pTo - pFrom, d, mr);
  for (long p = pFrom; p < pTo; p++) {
    const float* row = a + (p0 + p) * cs + i0;
    for (long ir = full; ir < mc; ir += mr)
      for (long i = 0; i < mr; i++) dst[ir * kc + p * mr + i] = ir + i < rows ? row[ir + i] : 0.0f;
  }
}

void packA(const float* a, long rs, long cs, long m, long i0, long mc, long p0, long kc, int mr, float* dst) {
  if (rs == 1) return packATransposed(a, cs, m, i0, mc, p0, kc, 0, kc, mr, dst);
  const long rows = maxL(0, minL(mc, m - i0));
  for (long ir = 0; ir < mc; ir += mr) {
    float* d = dst + ir * kc;
    const long r = minL(mr, rows - ir);
    if (r < mr)
      for (long x = 0; x < kc * mr; x++) d[x] = 0.0f;
    if (r > 0) transposeRows(a + (i0 + ir) * rs + p0 * cs, rs, r, kc, d, mr);
  }
}

void packBRows(const float* b, long rs, long n, long j0, long nc, long p0, long kc, long pFrom, long pTo, int nr, float* dst) {
  // walk whole rows of the block (long contiguous reads the prefetcher can follow from memory), scattering each
  // row's NR-wide pieces into their panels
  const long cols = minL(nc, n - j0), full = cols / nr * nr;
  const bool vec = isa() != Isa::generic && nr % 8 == 0;
  for (long p = pFrom; p < pTo; p++) {
    const float* src = b + (p0 + p) * rs + j0;
    if (vec)
      copyRowPiecesAvx(src, rs, full, kc, p, p + kPackAhead < kc ? kPackAhead : 0, nr, dst);
    else
      for (long jr = 0; jr < full; jr += nr)
        for (long j = 0; j < nr; j++) dst[jr * kc + p * nr + j] = src[jr + j];
    if (full < nc) {
      float* d = dst + full * kc + p * nr;
      for (long j = 0; j < nr; j++) d[j] = full + j < cols ? src[full + j] : 0.0f;
    }
  }
}

void packB(const float* b, long rs, long cs, long n, long j0, long nc, long p0, long kc, int nr, float* dst) {
  const long cols = minL(nc, n - j0);
  if (cs == 1) return packBRows(b, rs, n, j0, nc, p0, kc, 0, kc, nr, dst);
  for (long jr = 0; jr < nc; jr += nr) {
    float* d = dst + jr * kc;
    const long w = minL(nr, cols - jr);
    if (w < nr)
      for (long x = 0; x < kc * nr; x++) d[x] = 0.0f;
    if (w > 0) transposeRows(b + (j0 + jr) * cs + p0 * rs, cs, w, kc, d, nr);
  }
}

}  // namespace lwz
