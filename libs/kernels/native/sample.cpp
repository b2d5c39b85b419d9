// Sampling: one token per row from softmax(logits / temperature) restricted to the top-k (0 = all), then to
// the smallest prefix of the ranking (probability descending, lower id first on ties) holding >= topP of
// the top-k mass; the caller's uniform u picks the first kept id (in id order) whose running probability
// exceeds u * kept mass. temperature 0 = argmax. Float64 throughout, the ref rule step for step (ref/sample.ts):
// the probabilities are kept unnormalised, w = e^(x / t - max), one division and one exponential a value (the
// rule only compares sums of them with each other, so 1 / sum w is never needed), and the ranking is sorted only
// over the prefix that can hold kept tokens. Scratch is per thread and reused.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {
namespace {

long argmax(const float* x, long v) {
  long best = 0;
  for (long j = 1; j < v; j++)
    if (x[j] > x[best]) best = j;
  return best;
}

struct RowScratch {
  std::vector<double> w;       // (V,) unnormalised probabilities e^(x / t - max)
  long positive = 0;           // how many of them are > 0 (a -inf logit's is 0), counted as they are computed
  std::vector<int32_t> order;  // ids ranked by w (the prefix that can hold kept tokens)
  std::vector<uint8_t> kept;   // (V,) survives top-k / top-p
  void fit(long v) {
    if (static_cast<long>(w.size()) < v) {
      w.resize(v);
      order.resize(v);
      kept.resize(v);
    }
  }
};

/**
 * The ids with w >= tau in s.order, ranked (w descending, lower id first), for the largest tau in 1, 1/8, ...
 * (the weights' maximum is e^0 = 1) whose set has >= k ids (top-k) or >= `need` mass (top-p alone): a peaked row
 * sorts a handful of ids, not all V. Returns how many. The same thresholds and order as ref/sample.ts.
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
  long n = 0;
  for (long j = 0; j < v; j++)
    if (w[j] >= tau) s.order[n++] = static_cast<int32_t>(j);
  std::sort(s.order.begin(), s.order.begin() + n, [w](int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); });
  return n;
}

long sampleRow(const float* x, long v, double u, double temperature, long topK, double topP, RowScratch& s) {
  if (temperature == 0) return argmax(x, v);
  s.fit(v);
  double* w = s.w.data();
  double mx = -INFINITY;
  for (long j = 0; j < v; j++) {
    w[j] = x[j] / temperature;
    mx = std::max(mx, w[j]);
  }
  if (!std::isfinite(mx)) return argmax(x, v);
  double total = 0.0;
  s.positive = 0;
  for (long j = 0; j < v; j++) {
    w[j] = std::exp(w[j] - mx);
    total += w[j];
    s.positive += w[j] > 0;
  }
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
