// Sampling: one token per row from softmax(logits / temperature) restricted to the top-k (0 = all), then to
// the smallest prefix of the ranking (probability descending, lower id first on ties) holding >= topP of
// the top-k mass; the caller's uniform u picks the first kept id (in id order) whose running probability
// exceeds u * kept mass. temperature 0 = argmax. Float64 throughout, the ref rule step for step (ref/sample.ts):
// the probabilities are kept unnormalised, w = e^(x / t - max), one division and one exponential a value (the
// rule only compares sums of them with each other, so 1 / sum w is never needed), and the ranking is sorted only
// over the prefix that can hold kept tokens. Scratch is per thread and reused. The exponential is our own
// vectorised one (within ~1 ulp; glibc's and Node's Math.exp already differ by an ulp for ~10 % of arguments), and
// the weights' sum takes 8 partial sums, so ids agree with ref unless a uniform lies within ~1e-15 of a boundary.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"
#include "vecmath.h"

namespace lwz {
namespace {

long argmax(const float* x, long v) {
  long best = 0;
  for (long j = 1; j < v; j++)
    if (x[j] > x[best]) best = j;
  return best;
}

struct Ranked {
  double w;
  int32_t id;
};

struct RowScratch {
  std::vector<double> w;       // (V,) unnormalised probabilities e^(x / t - max)
  long positive = 0;           // how many of them are > 0 (a -inf logit's is 0), counted by weights()
  std::vector<int32_t> order;  // ids ranked by w (the prefix that can hold kept tokens)
  std::vector<uint8_t> kept;   // (V,) survives top-k / top-p
  std::vector<Ranked> pairs;   // rankedPrefix's candidates as (weight, id)
  std::vector<Ranked> spare;   // radixRank's second buffer
  void fit(long v) {
    if (static_cast<long>(w.size()) < v) {
      w.resize(v);
      pairs.resize(v);
      spare.resize(v);
      order.resize(v);
      kept.resize(v);
    }
  }
};

// Candidates above which rankedPrefix narrows a top-p set further, and above which it ranks them by the radix sort
// rather than by comparisons (whose log n factor is small on a few hundred). Chosen, not tuned: sample-ab's flat rows
// have ~1,100 candidates at 4,096 ids (~600 after narrowing) and ~42,000 at 151,936, far from either.
constexpr long kRefineTopP = 512;
constexpr long kRadixRank = 1024;

// a[0, n) ordered by weight descending, ties in their order in a: the ranking's order when a is in id order. A stable
// least-significant-digit radix sort on the weights' bits, one byte a pass (a byte every key shares skips its pass):
// a positive double's bits order as the double does, so their complement orders it descending. Into a or into spare;
// returns which.
Ranked* radixRank(Ranked* a, Ranked* spare, long n) {
  for (int shift = 0; shift < 64; shift += 8) {
    long start[256] = {};
    for (long r = 0; r < n; r++) {
      uint64_t bits;
      std::memcpy(&bits, &a[r].w, sizeof bits);
      start[(~bits >> shift) & 255]++;
    }
    bool one = false;
    for (long b = 0; b < 256; b++) one = one || start[b] == n;
    if (one) continue;
    long sum = 0;
    for (long b = 0; b < 256; b++) {
      const long c = start[b];
      start[b] = sum;
      sum += c;
    }
    for (long r = 0; r < n; r++) {
      uint64_t bits;
      std::memcpy(&bits, &a[r].w, sizeof bits);
      spare[start[(~bits >> shift) & 255]++] = a[r];
    }
    std::swap(a, spare);
  }
  return a;
}

/**
 * The ids with w >= tau in s.order, ranked (w descending, lower id first), for the largest tau in 1, 1/8, ...
 * (the weights' maximum is e^0 = 1) whose set has >= k ids (top-k) or >= `need` mass (top-p alone): a peaked row
 * sorts a handful of ids, not all V. Returns how many (with k < V only the first k of them are in rank order). The
 * same thresholds and order as ref/sample.ts; for top-p alone the set is then narrowed (below), which leaves the
 * kept prefix and its order as they were.
 */
long rankedPrefix(RowScratch& s, long v, long k, double need) {
  const double* w = s.w.data();
  // top-k past the ids of positive weight (min-p or a vocabulary limit left fewer than k finite logits): those are
  // all the kept ids can ever draw, so ranking stops at them (tau walking down to 0 took ~330 passes over the row)
  const long want = minL(k, s.positive);
  double tau = 1.0;
  for (;;) {
    long count = 0;
    double mass = 0.0;
    for (long j = 0; j < v; j++)
      if (w[j] >= tau) {
        count++;
        mass += w[j];
      }
    if (tau == 0 || (k < v ? count >= want : mass >= need)) break;
    tau = tau < 1e-300 ? 0 : tau / 8;
  }
  // the candidates as (weight, id) pairs in id order: the narrowing below reads their weights in sequence, and each
  // comparison of the ranking reads its two pairs rather than two weights at random places of the row
  Ranked* pairs = s.pairs.data();
  long n = 0;
  for (long j = 0; j < v; j++)
    if (w[j] >= tau) pairs[n++] = {w[j], static_cast<int32_t>(j)};
  // top-p alone: the set above tau can hold up to 8x the weight of the ones it needs (sample-ab's flat rows at 151,936
  // ids, top-p 0.9 at t 0.8: 41,777-42,451 candidates for 23,143-23,534 kept), so the threshold is raised between tau
  // and 8 tau while the ids above it still hold `need` (there: 23,194-23,676 left), sums taken in id order. The caller
  // accumulates the ranking in rank order, which may round differently, so a raise must clear `need` by the bound on
  // the two sums' difference (2 n u of the sum for n positive terms, u = 2^-53 < 1.2e-16): the kept prefix is then
  // inside the smaller set, and its ranking is the same.
  if (k >= v && tau > 0 && tau < 1 && n > kRefineTopP) {
    const double margin = 1.0 + 2.0 * static_cast<double>(n) * 1.2e-16;
    double lo = tau, hi = tau * 8;
    for (int it = 0; it < 6; it++) {
      const double mid = std::sqrt(lo * hi);
      double mass = 0.0;
      for (long r = 0; r < n; r++)
        if (pairs[r].w >= mid) mass += pairs[r].w;
      if (mass >= need * margin)
        lo = mid;
      else
        hi = mid;
    }
    if (lo > tau) {
      long kept = 0;
      for (long r = 0; r < n; r++)
        if (pairs[r].w >= lo) pairs[kept++] = pairs[r];
      n = kept;
    }
  }
  // with top-k only the first k of the ranking are ever read (the kept ids are a prefix of them): a partial sort
  // gives the same first k, as the order (w descending, then id) is total. A wide row at top-k 50 ranks ~18,000 ids
  // above its threshold, and sorting all of them took most of its time.
  const auto before = [](const Ranked& a, const Ranked& b) { return a.w > b.w || (a.w == b.w && a.id < b.id); };
  if (k < n) {
    std::partial_sort(pairs, pairs + k, pairs + n, before);
  } else if (n > kRadixRank) {
    pairs = radixRank(pairs, s.spare.data(), n);  // the pairs are in id order: the same ranking as the comparison
  } else {
    std::sort(pairs, pairs + n, before);
  }
  for (long r = 0; r < minL(n, k); r++) s.order[r] = pairs[r].id;
  return n;
}

/**
 * e^d for d in [-708, 0] (a normal result), NaN for NaN, within ~1 ulp of a correctly rounded exp (Cody-Waite
 * reduction to |r| <= ln2 / 2, then e^r by its Taylor series to r^13 / 13!, whose next term is below 1e-17), and
 * exactly 1 at d = 0 (the row's maximum: rankedPrefix starts its thresholds at 1). Branch-free so the compiler
 * vectorises it, 2^n built with integer adds and shifts that AVX2 has. Below -708 the caller uses std::exp.
 */
[[gnu::always_inline]] inline double expNonPositive(double d) {
  const double c = d < -708.0 ? -708.0 : d;  // NaN stays NaN
  const double magic = 6755399441055744.0;   // 1.5 * 2^52: adding it rounds to an integer held in the low bits
  const double big = c * 1.4426950408889634 + magic;
  const double n = big - magic;
  const double r = (c - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;  // ln 2 in two parts
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // the low bits of `big` hold n (two's complement); shifted up by 52 with the bias they are 2^n's exponent field
  const uint64_t bits = (__builtin_bit_cast(uint64_t, big) + 1023) << 52;
  return p * __builtin_bit_cast(double, bits);
}

/**
 * w[j] = e^(x[j] / t - mx) for j < v, in blocks of 1024: the vectorised exponential, then std::exp for the block's
 * arguments below -708 (subnormal weights, and 0 for a -inf logit), when it has any. Returns the sum of the weights
 * (8 interleaved partial sums) and counts those > 0 into `positive`. NaN logits give a NaN sum.
 */
LWZ_CLONES double weights(const float* x, long v, double t, double mx, double* w, long& positive) {
  for (long b = 0; b < v; b += 1024) {
    const long e = minL(v, b + 1024);
    int low = 0;
    for (long j = b; j < e; j++) {
      const double d = x[j] / t - mx;
      low |= d < -708.0;
      w[j] = expNonPositive(d);
    }
    if (low)
      for (long j = b; j < e; j++) {
        const double d = x[j] / t - mx;
        if (d < -708.0) w[j] = std::exp(d);
      }
  }
  long count = 0;
  for (long j = 0; j < v; j++) count += w[j] > 0;
  positive = count;
  return sumF64(v, [w](long j) { return w[j]; });
}

long sampleRow(const float* x, long v, double u, double temperature, long topK, double topP, RowScratch& s) {
  if (temperature == 0) return argmax(x, v);
  s.fit(v);
  double* w = s.w.data();
  // the largest x / t is the largest x over t (a positive t keeps the order, and the division rounds monotonically)
  const double mx = static_cast<double>(maxF32(x, v, -INFINITY)) / temperature;
  if (!std::isfinite(mx)) return argmax(x, v);
  const double total = weights(x, v, temperature, mx, w, s.positive);
  if (!std::isfinite(total)) return argmax(x, v);  // a NaN logit
  const long k = topK > 0 ? minL(topK, v) : v;
  const bool all = k == v && topP >= 1;  // everything kept: no ranking, no marks
  double mass = total;
  if (!all) {
    const long n = minL(k, rankedPrefix(s, v, k, topP * total));
    double massK = total;  // the top-k mass: everything when k = V, else the first k ranked ids (n = k then)
    if (k < v) {
      massK = 0.0;
      for (long r = 0; r < n; r++) massK += w[s.order[r]];
    }
    std::fill(s.kept.begin(), s.kept.begin() + v, 0);
    mass = 0.0;
    for (long r = 0; r < n; r++) {
      s.kept[s.order[r]] = 1;
      mass += w[s.order[r]];
      if (topP < 1 && mass >= topP * massK) break;
    }
  }
  const double target = u * mass;
  double run = 0.0;
  long last = -1;
  for (long j = 0; j < v; j++) {
    if ((!all && !s.kept[j]) || !(w[j] > 0)) continue;  // weight 0 (a -inf logit): never drawn, even at u = 1
    run += w[j];
    last = j;
    if (run > target) return j;
  }
  return last;  // u * mass rounded up to the whole mass: the last id with weight
}

}  // namespace

// (logits, uniforms, ids, n, v, temperature, topK, topP)
napi_value sampleForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "sampleForward");
  const float* logits = in.f32(0);
  const float* uniforms = in.f32(1);
  int32_t* ids = in.i32(2);
  const long n = in.integer(3), v = in.integer(4);
  const double temperature = in.num(5);
  const long topK = in.integer(6);
  const double topP = in.num(7);
  if (!in.ok) return nullptr;
  parallelFor(
      n,
      [&](long r, int) {
        thread_local RowScratch s;
        ids[r] = static_cast<int32_t>(sampleRow(logits + r * v, v, uniforms[r], temperature, topK, topP, s));
      },
      static_cast<double>(n) * v > 1.0e5);
  return undefined(env);
}

}  // namespace lwz
