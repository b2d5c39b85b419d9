// Lab cases over rows of logits: softmax / log-softmax, chosen-token log-probs forward and backward (a masked
// row, in place), entropy (a peaked row), and sampling, whose ids must equal the CPU reference's exactly for
// every temperature / top-k / top-p, including Qwen's 151,936-token vocabulary and rows full of ties.
#include <string>

#include "cases.h"
#include "ref.h"

namespace lab {
namespace {

std::string shapeName(const char* what, int64_t n, int64_t v, int dt) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s (%lld, %lld) %s", what, (long long)n, (long long)v, dtName(dt));
  return buf;
}

void softmaxCase(Rng& rng, int dt, int64_t n, int64_t v, double scale) {
  Vec x = randn(rng, n * v, dt, scale), sm(n * v), ls(n * v);
  for (int64_t r = 0; r < n; r++) {
    const double l = ref::rowLse(x, r * v, v);
    for (int64_t j = 0; j < v; j++) {
      ls[r * v + j] = x[r * v + j] - l;
      sm[r * v + j] = std::exp(ls[r * v + j]);
    }
  }
  Buf x_(n * v, dt), o_(n * v, dt);
  x_.set(x);
  const Tol t = tol("exp", dt);
  check(lwz_softmax(x_.p, o_.p, dt, n, v, 0), "softmax");
  compare(shapeName("softmax", n, v, dt), o_.get(), sm, t.atol, t.rtol);
  check(lwz_softmax(x_.p, x_.p, dt, n, v, 1), "logSoftmax in place");
  const Tol tl = tol("logprobs", dt);
  compare(shapeName("logSoftmax in place", n, v, dt), x_.get(), ls, tl.atol, tl.rtol);
}

void logprobsCase(Rng& rng, int dt, int64_t n, int64_t v) {
  Vec x = randn(rng, n * v, dt, 4), d = randn(rng, n, LWZ_F32), tg(n);
  for (int64_t r = 0; r < n; r++) tg[r] = r == 1 ? -1 : rng.below(int(v));
  Vec lp(n), lse(n), dl(n * v), ent(n);
  for (int64_t r = 0; r < n; r++) {
    lse[r] = ref::rowLse(x, r * v, v);
    const int t = int(tg[r]);
    lp[r] = t < 0 ? 0 : x[r * v + t] - lse[r];
    ent[r] = 0;
    for (int64_t j = 0; j < v; j++) {
      const double l = x[r * v + j] - lse[r], p = std::exp(l);
      ent[r] -= p * l;
      dl[r * v + j] = t < 0 ? 0 : d[r] * ((j == t ? 1 : 0) - p);
    }
  }
  Buf x_(n * v, dt), t_(n, LWZ_I32), lp_(n, LWZ_F32), lse_(n, LWZ_F32), d_(n, LWZ_F32), dl_(n * v, dt), ent_(n, LWZ_F32);
  x_.set(x);
  t_.set(tg);
  d_.set(d);
  const Tol t = tol("logprobs", dt);
  check(lwz_token_logprobs_forward(x_.p, t_.ptr<int32_t>(), lp_.ptr<float>(), lse_.ptr<float>(), dt, n, v), "tokenLogprobs");
  compare(shapeName("tokenLogprobs logprobs, a masked row", n, v, dt), lp_.get(), lp, t.atol, t.rtol);
  compare(shapeName("tokenLogprobs lse", n, v, dt), lse_.get(), lse, t.atol, t.rtol);
  check(lwz_entropy(x_.p, ent_.ptr<float>(), dt, n, v), "entropy");
  compare(shapeName("entropy", n, v, dt), ent_.get(), ent, t.atol, t.rtol);
  check(lwz_token_logprobs_backward(d_.ptr<float>(), x_.p, t_.ptr<int32_t>(), lse_.ptr<float>(), dl_.p, dt, n, v), "tokenLogprobsBackward");
  compare(shapeName("tokenLogprobsBackward", n, v, dt), dl_.get(), dl, t.atol, t.rtol);
  check(lwz_token_logprobs_backward(d_.ptr<float>(), x_.p, t_.ptr<int32_t>(), lse_.ptr<float>(), x_.p, dt, n, v), "in place");
  compare(shapeName("tokenLogprobsBackward in place", n, v, dt), x_.get(), dl, t.atol, t.rtol);
}

void peakedEntropy() {
  Buf x_(4, LWZ_F32), e_(1, LWZ_F32);
  x_.set({50, 0, 0, -50});
  check(lwz_entropy(x_.p, e_.ptr<float>(), LWZ_F32, 1, 4), "entropy");
  Vec x = {50, 0, 0, -50};
  const double l = ref::rowLse(x, 0, 4);
  double h = 0;
  for (double e : x) h -= std::exp(e - l) * (e - l);
  const Tol t = tol("logprobs", LWZ_F32);
  compare("entropy of a peaked row", e_.get(), {h}, t.atol, t.rtol);
}

struct SampleOpts {
  double temperature;
  int64_t topK;
  double topP;
};

void sampleCase(Rng& rng, int dt, int64_t n, int64_t v, double scale, const SampleOpts& o, bool ties) {
  Vec x = randn(rng, n * v, dt, scale), u(n), want(n);
  if (ties)
    for (auto& e : x) e = std::round(e);  // integer logits: many exact ties in p
  for (int64_t r = 0; r < n; r++) u[r] = double(float(rng.uniform()));
  if (n > 1) x[v + 3] = -INFINITY;  // a masked token
  for (int64_t r = 0; r < n; r++) want[r] = ref::sampleRow(x, r * v, v, u[r], o.temperature, o.topK, o.topP);
  Buf x_(n * v, dt), u_(n, LWZ_F32), ids_(n, LWZ_I32);
  x_.set(x);
  u_.set(u);
  check(lwz_sample(x_.p, u_.ptr<float>(), ids_.ptr<int32_t>(), dt, n, v, o.temperature, o.topK, o.topP), "sample");
  char name[200];
  std::snprintf(name, sizeof name, "sample%s T %.2g topK %lld topP %.2g (%lld, %lld) %s", ties ? " (tied logits)" : "", o.temperature,
                (long long)o.topK, o.topP, (long long)n, (long long)v, dtName(dt));
  compare(name, ids_.get(), want, 0, 0);
}

}  // namespace

void runRowCases(Rng& rng, bool quick) {
  for (int dt : {LWZ_F32, LWZ_BF16}) {
    softmaxCase(rng, dt, 1, 1, 30);
    softmaxCase(rng, dt, 5, 1000, 30);
    softmaxCase(rng, dt, 3, 7, 30);
    logprobsCase(rng, dt, 1, 3);
    logprobsCase(rng, dt, 6, 501);
    if (!quick) {
      softmaxCase(rng, dt, 4, 151936, 3);
      logprobsCase(rng, dt, 8, 151936);
    }
  }
  peakedEntropy();
  const std::vector<SampleOpts> opts = {{0, 0, 1},      {1, 0, 1},    {0.8, 0, 0.9},  {1.3, 20, 1},
                                        {0.7, 50, 0.5}, {1, 1, 1},    {1, 0, 0.0001}, {0.5, 400, 0.95}};
  for (int dt : {LWZ_F32, LWZ_BF16}) {
    for (const SampleOpts& o : opts) {
      sampleCase(rng, dt, 9, 301, 2, o, false);
      sampleCase(rng, dt, 1, 5, 1, o, false);
      sampleCase(rng, dt, 16, 257, 1, o, true);
      if (!quick) sampleCase(rng, dt, 4, 151936, 3, o, false);
    }
  }
}

}  // namespace lab
