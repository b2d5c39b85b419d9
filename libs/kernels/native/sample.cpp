// Sampling: one token per row from softmax(logits / temperature) restricted to the top-k (0 = all), then to
// the smallest prefix of the ranking (probability descending, lower id first on ties) holding >= topP of
// the top-k mass; the caller's uniform u picks the first kept id (in id order) whose running probability
// exceeds u * kept mass. temperature 0 = argmax. Float64 throughout, matching the ref rule step for step.
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
  std::vector<double> p;     // (V,) probabilities
  std::vector<int32_t> order;  // (V,) ids ranked by p
  std::vector<uint8_t> kept;   // (V,) survives top-k / top-p
};

// Marks kept ids and returns their total probability.
double keep(RowScratch& s, long v, long topK, double topP) {
  const long k = topK > 0 ? minL(topK, v) : v;
  if (k == v && topP >= 1) {
    std::fill(s.kept.begin(), s.kept.end(), 1);
    double mass = 0.0;
    for (long j = 0; j < v; j++) mass += s.p[j];
    return mass;
  }
  for (long j = 0; j < v; j++) s.order[j] = static_cast<int32_t>(j);
  const std::vector<double>& p = s.p;
  auto before = [&p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  std::partial_sort(s.order.begin(), s.order.begin() + k, s.order.end(), before);
  double massK = 0.0;
  for (long r = 0; r < k; r++) massK += p[s.order[r]];
  std::fill(s.kept.begin(), s.kept.end(), 0);
  double mass = 0.0;
  for (long r = 0; r < k; r++) {
    s.kept[s.order[r]] = 1;
    mass += p[s.order[r]];
    if (topP < 1 && mass >= topP * massK) break;
  }
  return mass;
}

long sampleRow(const float* x, long v, double u, double temperature, long topK, double topP, RowScratch& s) {
  if (temperature == 0) return argmax(x, v);
  double mx = -INFINITY;
  for (long j = 0; j < v; j++) mx = std::max(mx, x[j] / temperature);
  if (!std::isfinite(mx)) return argmax(x, v);
  double sum = 0.0;
  for (long j = 0; j < v; j++) sum += std::exp(x[j] / temperature - mx);
  const double lse = mx + std::log(sum);
  for (long j = 0; j < v; j++) s.p[j] = std::exp(x[j] / temperature - lse);
  const double target = u * keep(s, v, topK, topP);
  double run = 0.0;
  long last = -1;
  for (long j = 0; j < v; j++) {
    if (!s.kept[j]) continue;
    run += s.p[j];
    last = j;
    if (run > target) return j;
  }
  return last;
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
        RowScratch s{std::vector<double>(v), std::vector<int32_t>(v), std::vector<uint8_t>(v)};
        ids[r] = static_cast<int32_t>(sampleRow(logits + r * v, v, uniforms[r], temperature, topK, topP, s));
      },
      static_cast<double>(n) * v > 1.0e5);
  return undefined(env);
}

}  // namespace lwz
