// The row passes of rowstats.h, written once over a vector type V (rowpass_avx512.cpp, rowpass_avx2.cpp):
// log-sum-exp and entropy in one pass over memory (online max per block of 256 values; log-sum-exp looks at a
// block once unless its values rise above the running max), the write passes x - lse and s e^(x - lse) (x - lse
// also inside the next row's scan, lseShiftPrev), RMSNorm's backward row and the embedding gather's streamed rows;
// the writes optionally with streaming stores (writeRow). Included only by those files, after their
// `#pragma GCC target`, so every function here is compiled for that instruction set. Not a public header.
#pragma once
#include <cmath>
#include <cstdint>

#include <xmmintrin.h>

#include "rowstats.h"

namespace lwz {
namespace LWZ_ROWPASS_NS {

template <class V>
inline typename V::T loadTail(const float* p, long n, float fill) {
  return n >= V::W ? V::load(p) : V::loadPart(p, n, fill);
}

// Software prefetch distance (floats) of the scans below: 4 KiB ahead into L2, one prefetch per 64-byte line,
// which runs on past the row into the next rows of a contiguous (N, V) block (past the array's end it is
// harmless). Side by side on Zen 4, log-softmax 2048x4096 against the same code without it: 1.01-1.20x in 12
// of 14 paired runs, both ISAs, 0.89 and 0.92 in the other two (8 and 16 KiB ahead gained less, 2 KiB nothing;
// into L1 no better); the RMSNorm backward's dot pass gained nothing robust from the same (benchmarks/README.md).
constexpr long kScanPrefetch = 1024;

/**
 * Prefetch into L1 the line of the next row that lies one row (`stride` floats) past p + j, about once per
 * 64-byte line (every vector with 16 lanes, every second one with 8; j steps by V::W). Called from the write
 * passes, whose loads hit L1: without it no read is in flight while a row is written, and the next row's scan
 * starts on a cold stream. Past the array's end it is harmless (a prefetch never faults). Into L1 (T0), not L2
 * (T1, Zen 4's choice when it landed): on Zen 5 the RMSNorm backward (8192 x 1024, streamed dx) took 0-13 % less
 * time in six alternated suite runs (median 3 %), 2-4 % in two with LWZ_ISA=avx2 (benchmarks/README.md,
 * "2026-11-30 08:37"); shiftRow's callers (log-softmax's last row per chunk, the generic order) measured even. Not
 * measured on Zen 3, Zen 4 or Intel, where T1 is the hint to try first if it reads slower.
 */
template <class V>
inline void prefetchNextRow(const float* p, long j, long stride) {
  if (V::W >= 16 || (j & 8) == 0) _mm_prefetch(reinterpret_cast<const char*>(p + j + stride), _MM_HINT_T0);
}

/** max over b[0, n): the lanes past n read -inf. NaN may or may not survive (callers check the sum). */
template <class V>
inline float blockMax(const float* b, long n) {
  typename V::T m0 = V::set1(-INFINITY), m1 = m0;
  long j = 0;
  for (; j + 2 * V::W <= n; j += 2 * V::W) {
    for (long q = 0; q < 2 * V::W; q += 16) _mm_prefetch(reinterpret_cast<const char*>(b + j + q + kScanPrefetch), _MM_HINT_T1);
    m0 = V::max(m0, V::load(b + j));
    m1 = V::max(m1, V::load(b + j + V::W));
  }
  for (; j < n; j += V::W) m0 = V::max(m0, loadTail<V>(b + j, n - j, -INFINITY));
  return V::reduceMax(V::max(m0, m1));
}

inline bool anyNaN(const float* b, long n) {
  for (long j = 0; j < n; j++)
    if (b[j] != b[j]) return true;
  return false;
}

/**
 * Online block scan of entropy: for each block, raise the running max m (calling rescale(old,
 * new) first) and then body(block, n, m). Returns false, with *special set, for a row the scan cannot finish:
 * NaN (NaN), +inf present (+inf). m stays -inf for an all -inf row.
 */
template <class V, class Rescale, class Body>
inline bool onlineScan(const float* x, long v, float* mOut, float* special, Rescale rescale, Body body) {
  float m = -INFINITY;
  for (long j0 = 0; j0 < v; j0 += kLseBlock) {
    const float* b = x + j0;
    const long n = minL(kLseBlock, v - j0);
    const float bm = blockMax<V>(b, n);
    if (bm != bm) return (*special = NAN), false;
    if (bm > m) {
      if (bm == INFINITY) return (*special = INFINITY), false;
      if (m > -INFINITY) rescale(m, bm);
      m = bm;
    }
    if (m == -INFINITY) {
      if (anyNaN(b, n)) return (*special = NAN), false;
      continue;
    }
    body(b, n, m);
  }
  *mOut = m;
  return true;
}

// A block's sum against the running max m is kept without a max of its own when it stays at or below 256 (a
// full block of values at m): no term exceeded 256, so every d = x - m was at most ln 256 = 5.5 and e^d is as
// accurate as against the block's own max (the float product d log2 e loses ~6e-8 |d log2 e| relative; a window
// of e^64 let the dominant terms lose up to 3e-6). V::clampSum keeps every larger d above the limit (finite or
// inf), and NaN stays NaN.
constexpr double kSumLimit = static_cast<double>(kLseBlock);

/**
 * The log-sum-exp's sum terms against a running max m: e^(x - m) as V::expTerm(V::clampSum(x - m)), relative to
 * origin = m itself. A V may bring its own form as V::SumTerms (AVX2: one FMA for x - m and the scaling, its
 * origin then within a few ulp of m); SumTermsOf picks it where present and usable for this m (covers(m)).
 */
template <class V>
struct ExpAgainstMax {
  typename V::T mv;
  double origin;
  explicit ExpAgainstMax(float m) : mv(V::set1(m)), origin(m) {}
  static bool covers(float) { return true; }
  typename V::T operator()(typename V::T x) const { return V::expTerm(V::clampSum(V::sub(x, mv))); }
};

template <class...>
using VoidT = void;
template <class V, class = void>
struct SumTermsOf {
  using type = ExpAgainstMax<V>;
};
template <class V>
struct SumTermsOf<V, VoidT<typename V::SumTerms>> {
  using type = typename V::SumTerms;
};

/** blockSum without a per-vector call. */
struct NoEach {
  void operator()(long) const {}
};

/**
 * sum over b[0, n) of the terms (e^(b - terms.origin); the lanes past n add 0), prefetching kScanPrefetch ahead as
 * blockMax does. each(j) runs after the term of every vector at b + j in the whole vector pairs (none for a tail):
 * the write of another row interleaved vector by vector with this scan (lseShiftPrev); NoEach compiles to nothing.
 */
template <class V, class Terms, class Each = NoEach>
inline double blockSum(const float* b, long n, const Terms& terms, Each each = Each()) {
  typename V::T a0 = V::zero(), a1 = a0;
  long j = 0;
  for (; j + 2 * V::W <= n; j += 2 * V::W) {
    for (long q = 0; q < 2 * V::W; q += 16) _mm_prefetch(reinterpret_cast<const char*>(b + j + q + kScanPrefetch), _MM_HINT_T1);
    a0 = V::add(a0, terms(V::load(b + j)));
    each(j);
    a1 = V::add(a1, terms(V::load(b + j + V::W)));
    each(j + V::W);
  }
  for (; j < n; j += V::W) a0 = V::add(a0, terms(loadTail<V>(b + j, n - j, -INFINITY)));
  return V::reduceAdd(V::add(a0, a1));
}

/**
 * The sum terms for the running max m (SumTermsOf, or ExpAgainstMax where V's own form does not cover m) and the
 * block sums against them: every sum one call returns is relative to the same origin.
 */
template <class V>
class BlockSums {
  using Own = typename SumTermsOf<V>::type;
  Own own_;
  ExpAgainstMax<V> plain_;
  bool useOwn_;

 public:
  explicit BlockSums(float m) : own_(Own::covers(m) ? m : 0.0f), plain_(m), useOwn_(Own::covers(m)) {}
  double origin() const { return useOwn_ ? own_.origin : plain_.origin; }
  template <class Each = NoEach>
  double operator()(const float* b, long n, Each each = Each()) const {
    return useOwn_ ? blockSum<V>(b, n, own_, each) : blockSum<V>(b, n, plain_, each);
  }
};

/** lseThen without a per-vector write: every block goes to `after`. */
struct NoAlongside {
  bool takes(long, long) const { return false; }
  void operator()(long) const {}
};

/**
 * log sum_j e^x[j]; edge cases as RowPasses::lse (rowstats.h). The first block with a finite max sets m; every
 * later block is summed against m in one look, without its own max pass (the sum is relative to any m as well
 * as to the max itself), and only a block whose sum fails kSumLimit (values above m, +inf, NaN) takes the
 * online-max step of onlineScan: its max, the rescale, its sum again.
 * Against the two looks per block (max, then sum) this removes a load and a max per vector from the scan.
 * after(j0, n) runs once per block [j0, j0 + n), after its one-look sum or before its max step; where
 * alongside.takes(j0, n), the one-look sum itself calls alongside(j) after each vector at x + j instead (the
 * block's after is then skipped, also when the block goes on to the max step).
 */
template <class V, class After, class Alongside = NoAlongside>
inline double lseThen(const float* x, long v, After after, Alongside alongside = Alongside()) {
  double sum = 0.0;  // relative to sums.origin() (m itself unless V's sum terms shift it)
  float m = -INFINITY;
  BlockSums<V> sums(0.0f);
  for (long j0 = 0; j0 < v; j0 += kLseBlock) {
    const float* b = x + j0;
    const long n = minL(kLseBlock, v - j0);
    bool wroteAlongside = false;  // this block's `after` work done inside its sum
    if (m > -INFINITY) {
      wroteAlongside = alongside.takes(j0, n);
      const double s = wroteAlongside ? sums(b, n, [&](long j) { alongside(j0 + j); }) : sums(b, n);
      if (s <= kSumLimit) {  // false for NaN
        sum += s;
        if (!wroteAlongside) after(j0, n);
        continue;
      }
    }
    if (!wroteAlongside) after(j0, n);
    const float bm = blockMax<V>(b, n);
    if (bm != bm) return NAN;
    if (bm > m) {
      if (bm == INFINITY) return INFINITY;
      const BlockSums<V> raised(bm);
      if (m > -INFINITY) sum *= std::exp(sums.origin() - raised.origin());
      m = bm;
      sums = raised;
    }
    if (m == -INFINITY) {
      if (anyNaN(b, n)) return NAN;
      continue;
    }
    sum += sums(b, n);
  }
  return m == -INFINITY ? -INFINITY : sums.origin() + std::log(sum);
}

template <class V>
inline double lse(const float* x, long v) {
  return lseThen<V>(x, v, [](long, long) {});
}

/**
 * -sum_j p log p in one pass: with d = x - m, S0 = sum e^d and S1 = sum e^d d (both rescaled when m rises by
 * delta: S1 = e^-delta (S1 - delta S0)), H = log S0 - S1 / S0. 0 for an all -inf row or one holding +inf, as
 * ref (whose log p there are all -inf or NaN, and skipped); NaN for a NaN (ref's max skips it).
 */
template <class V>
inline double entropy(const float* x, long v) {
  double s0 = 0.0, s1 = 0.0;
  float m, special;
  auto rescale = [&](float o, float nw) {
    const double delta = static_cast<double>(nw) - o, f = std::exp(-delta);
    s1 = f * (s1 - delta * s0);
    s0 *= f;
  };
  auto body = [&](const float* b, long n, float mf) {
    const typename V::T mv = V::set1(mf);
    typename V::T a0 = V::zero(), a1 = a0;
    for (long j = 0; j < n; j += V::W) {
      const typename V::T d = V::clamp(V::sub(loadTail<V>(b + j, n - j, -INFINITY), mv));
      const typename V::T e = V::expTerm(d);
      a0 = V::add(a0, e);
      a1 = V::fma(e, d, a1);
    }
    s0 += V::reduceAdd(a0);
    s1 += V::reduceAdd(a1);
  };
  if (!onlineScan<V>(x, v, &m, &special, rescale, body)) return special == INFINITY ? 0.0 : special;
  return m == -INFINITY ? 0.0 : std::log(s0) - s1 / s0;
}

/**
 * o[0, v) = f(j, n) per vector (n = V::W, or the n < W values of a part). stream: the vectors of the 64-byte
 * lines that o covers whole are written with non-temporal stores (no read of the destination line first); the
 * partial lines at either end with plain stores. The caller fences (_mm_sfence) before anyone reads o.
 */
template <class V, class F>
inline void writeRow(float* o, long v, bool stream, F f) {
  long j = 0;
  if (stream) {
    const long head = minL(v, static_cast<long>((-reinterpret_cast<uintptr_t>(o) & 63) / sizeof(float)));
    for (; j + V::W <= head; j += V::W) V::store(o + j, f(j, V::W));
    if (j < head) V::storePart(o + j, head - j, f(j, head - j));
    for (j = head; j + V::W <= v; j += V::W) V::stream(o + j, f(j, V::W));
  } else {
    for (; j + V::W <= v; j += V::W) V::store(o + j, f(j, V::W));
  }
  if (j < v) V::storePart(o + j, v - j, f(j, v - j));
}

template <class V>
inline typename V::T loadN(const float* p, long n) {
  return n == V::W ? V::load(p) : V::loadPart(p, n, 0.0f);
}

/** o = (x - hi) - lo over v values (log-softmax with lse = hi + lo). */
template <class V>
inline void shiftRow(const float* x, float* o, long v, float hi, float lo, bool stream) {
  const typename V::T h = V::set1(hi), l = V::set1(lo);
  writeRow<V>(o, v, stream, [&](long j, long n) {
    prefetchNextRow<V>(x, j, v);
    return V::sub(V::sub(loadN<V>(x + j, n), h), l);
  });
}

/**
 * lse of row x (as lse) while the previous row is written, po = (px - hi) - lo: the stores leave while the scan's
 * exponentials run. Streamed, each whole 256-value block after the first with a finite max whose po lines are
 * aligned is written vector by vector inside the same block's sum (a streaming store after each vector's term);
 * other blocks, and plain stores, block by block right after the block's sum (or before its max step). Vector by
 * vector took 3-13 % less time than block by block on Zen 5 (log-softmax 2048 x 4096, six alternated suite runs;
 * even in two with LWZ_ISA=avx2; benchmarks/README.md, "2026-11-30 08:37"); not measured elsewhere.
 */
template <class V>
inline double lseShiftPrev(const float* x, long v, const float* px, float* po, float hi, float lo, bool stream) {
  const typename V::T h = V::set1(hi), l = V::set1(lo);
  long done = 0;  // po [0, done) written: a row the scan leaves early (NaN, +inf) has its rest written after it
  auto write = [&](long j0, long n) {
    writeRow<V>(po + j0, n, stream, [&](long j, long k) { return V::sub(V::sub(loadN<V>(px + j0 + j, k), h), l); });
    done = j0 + n;
  };
  struct StreamAlongside {
    const float* px;
    float* po;
    typename V::T h, l;
    bool stream;
    long* done;
    // whole blocks only: blockSum calls alongside for its whole vector pairs, which a whole block is all of
    static_assert(kLseBlock % (2 * V::W) == 0, "a whole block is whole vector pairs");
    // a block taken is written whole by the sum that follows (lseThen runs it to the end before any exit), so
    // done moves past it here, not after every vector
    bool takes(long j0, long n) const {
      if (!stream || n != kLseBlock || (reinterpret_cast<uintptr_t>(po + j0) & 63) != 0) return false;
      *done = j0 + n;
      return true;
    }
    void operator()(long j) const { V::stream(po + j, V::sub(V::sub(V::load(px + j), h), l)); }
  };
  const double r = lseThen<V>(x, v, write, StreamAlongside{px, po, h, l, stream, &done});
  if (done < v) write(done, v - done);
  return r;
}

/** o = s e^((x - hi) - lo) over v values; -inf gives exactly 0. */
template <class V>
inline void expRow(const float* x, float* o, long v, float hi, float lo, float s, bool stream) {
  const typename V::T h = V::set1(hi), l = V::set1(lo), sv = V::set1(s);
  writeRow<V>(o, v, stream, [&](long j, long n) { return V::mul(sv, V::exp(V::sub(V::sub(loadN<V>(x + j, n), h), l))); });
}

/**
 * RMSNorm backward of one row of c: dx = rs dy w - k x with k = rs^3 / c sum_j dy w x (float lanes), and
 * blk += dy x rs (this row's dw terms; none when blk is null). dx may alias dy or x: each vector is loaded before it
 * is stored.
 */
template <class V>
inline void rmsnormBackwardRow(const float* dy, const float* x, const float* w, float rs, float* dx, float* blk, long c,
                               bool stream) {
  typename V::T a0 = V::zero(), a1 = a0;
  long j = 0;
  for (; j + 2 * V::W <= c; j += 2 * V::W) {
    a0 = V::fma(V::mul(V::load(dy + j), V::load(w + j)), V::load(x + j), a0);
    a1 = V::fma(V::mul(V::load(dy + j + V::W), V::load(w + j + V::W)), V::load(x + j + V::W), a1);
  }
  for (; j < c; j += V::W) {
    const long n = c - j;
    a0 = V::fma(V::mul(loadTail<V>(dy + j, n, 0.0f), loadTail<V>(w + j, n, 0.0f)), loadTail<V>(x + j, n, 0.0f), a0);
  }
  const double dot = V::reduceAdd(V::add(a0, a1));
  const typename V::T rv = V::set1(rs), nk = V::set1(-static_cast<float>(static_cast<double>(rs) * rs * rs * dot / c));
  // blk (c,) is L1-resident scratch: plain stores; dx is written by writeRow (streamed when asked)
  writeRow<V>(dx, c, stream, [&](long j, long n) {
    prefetchNextRow<V>(dy, j, c);
    prefetchNextRow<V>(x, j, c);
    const typename V::T d = V::mul(loadN<V>(dy + j, n), rv), xv = loadN<V>(x + j, n);
    if (blk != nullptr) {
      if (n == V::W)
        V::store(blk + j, V::fma(d, xv, V::load(blk + j)));
      else
        V::storePart(blk + j, n, V::fma(d, xv, V::loadPart(blk + j, n, 0.0f)));
    }
    return V::fma(d, loadN<V>(w + j, n), V::mul(nk, xv));
  });
}

/**
 * blk (c,) = sum over rows r of dy_r x_r rs[r] (the dw terms of a block of rows, rows apart by c), each column
 * summed in row order from 0 with one fused multiply-add a row: the bits of rmsnormBackwardRow's per-row blk update.
 * A column pass over rows the row passes just read (in L1/L2), so that each row pass stores dx alone. Used by the
 * AVX-512 path for plain (not streamed) dx only: see rowstats.h rmsnormDw for the measurements.
 */
template <class V>
inline void rmsnormDwBlock(const float* dy, const float* x, const float* rs, long rows, long c, float* blk) {
  constexpr long U = 4;  // independent column vectors per sweep (FMA chains)
  long j = 0;
  for (; j + U * V::W <= c; j += U * V::W) {
    typename V::T a[U];
    for (long u = 0; u < U; u++) a[u] = V::zero();
    for (long r = 0; r < rows; r++) {
      const typename V::T rv = V::set1(rs[r]);
      const float* dyr = dy + r * c + j;
      const float* xr = x + r * c + j;
      for (long u = 0; u < U; u++) a[u] = V::fma(V::mul(V::load(dyr + u * V::W), rv), V::load(xr + u * V::W), a[u]);
    }
    for (long u = 0; u < U; u++) V::store(blk + j + u * V::W, a[u]);
  }
  for (; j < c; j += V::W) {
    const long n = minL(V::W, c - j);
    typename V::T a = V::zero();
    for (long r = 0; r < rows; r++) a = V::fma(V::mul(loadN<V>(dy + r * c + j, n), V::set1(rs[r])), loadN<V>(x + r * c + j, n), a);
    if (n == V::W)
      V::store(blk + j, a);
    else
      V::storePart(blk + j, n, a);
  }
}

/**
 * rowstats.h gatherStream: each row's lines copied with streaming stores, each copy requesting the next row's
 * matching line (embedding.cpp says why). c is whole 64-byte lines and out line-aligned (the caller's check).
 */
template <class V>
inline void gatherRowsStream(const float* table, const int32_t* ids, float* out, long r0, long r1, long c) {
  for (long r = r0; r < r1; r++) {
    const float* src = table + static_cast<long>(ids[r]) * c;
    float* dst = out + r * c;
    const float* next = r + 1 < r1 ? table + static_cast<long>(ids[r + 1]) * c : src;
    for (long j = 0; j < c; j += 16) {
      __builtin_prefetch(next + j, 0, 3);
      for (long u = 0; u < 16; u += V::W) V::stream(dst + j + u, V::load(src + j + u));
    }
  }
  _mm_sfence();
}

}  // namespace LWZ_ROWPASS_NS
}  // namespace lwz
