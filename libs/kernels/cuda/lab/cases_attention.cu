// Lab cases: attention forward and backward, each version forced in turn (simple, wmma, flash, decode, auto),
// the forward also over a head-major (B, Hkv, S, D) copy of the keys and values (the decode KV cache's layout),
// on the conformance suite's shapes (GQA 1/2/4, odd D, T = 1 decode, KV prefix, left padding, a fully masked
// query, tile edges) plus real ones (Qwen2.5-0.5B heads at T = 1024, D = 128, a long split-K decode, D = 160).
#include <string>

#include "cases.h"
#include "ref.h"

namespace lab {
namespace {

struct Shape {
  const char* name;
  int b, t, s, h, hkv, d;
  std::vector<int> qOffset, kvStart;  // empty: S - T and 0
};

/** (B, S, Hkv, D) -> (B, Hkv, S, D) */
Vec headMajor(const Vec& x, const Shape& sh) {
  Vec y(x.size());
  for (int bb = 0; bb < sh.b; bb++)
    for (int j = 0; j < sh.s; j++)
      for (int g = 0; g < sh.hkv; g++)
        for (int e = 0; e < sh.d; e++)
          y[((size_t(bb) * sh.hkv + g) * sh.s + j) * sh.d + e] = x[((size_t(bb) * sh.s + j) * sh.hkv + g) * sh.d + e];
  return y;
}

void runShape(Rng& rng, const Shape& sh, const char* impl, int dt, bool backward) {
  ref::Attn a{sh.b, sh.t, sh.s, sh.h, sh.hkv, sh.d, sh.qOffset, sh.kvStart, 1.0 / std::sqrt(double(sh.d))};
  if (a.qOffset.empty()) a.qOffset.assign(size_t(sh.b), sh.s - sh.t);
  if (a.kvStart.empty()) a.kvStart.assign(size_t(sh.b), 0);
  const int64_t nq = int64_t(sh.b) * sh.t * sh.h * sh.d, nk = int64_t(sh.b) * sh.s * sh.hkv * sh.d, nl = int64_t(sh.b) * sh.h * sh.t;
  Vec q = randn(rng, nq, dt), k = randn(rng, nk, dt), v = randn(rng, nk, dt), dOut = randn(rng, nq, dt);
  Buf q_(nq, dt), k_(nk, dt), v_(nk, dt), o_(nq, dt), l_(nl, LWZ_F32), qo_(sh.b, LWZ_I32), ks_(sh.b, LWZ_I32);
  q_.set(q);
  k_.set(k);
  v_.set(v);
  qo_.set(Vec(a.qOffset.begin(), a.qOffset.end()));
  ks_.set(Vec(a.kvStart.begin(), a.kvStart.end()));
  check(lwz_set_option("attention", impl), "set attention");
  const int rc = lwz_attention_forward(q_.p, k_.p, v_.p, qo_.ptr<int32_t>(), ks_.ptr<int32_t>(), o_.p, l_.ptr<float>(), dt, sh.b, sh.t, sh.s,
                                       sh.h, sh.hkv, sh.d, float(a.scale), 0);
  char name[200];
  std::snprintf(name, sizeof name, "attention[%s] %s: %s (B%d T%d S%d H%d Hkv%d D%d)", impl, dtName(dt), sh.name, sh.b, sh.t, sh.s, sh.h,
                sh.hkv, sh.d);
  if (rc != 0) {
    std::printf("skip %s: %s\n", name, lwz_last_error());
    return;
  }
  Vec out(nq), lse(nl);
  ref::attentionForward(a, q, k, v, out, lse);
  const Tol t = tol("attention", dt);
  compare(std::string(name) + " out", o_.get(), out, t.atol, t.rtol);
  compare(std::string(name) + " lse", l_.get(), lse, t.atol, t.rtol);
  // the same keys and values head-major, (B, Hkv, S, D) as the decode KV cache holds them: same reference
  Buf kh(nk, dt), vh(nk, dt), oh(nq, dt), lh(nl, LWZ_F32);
  kh.set(headMajor(k, sh));
  vh.set(headMajor(v, sh));
  check(lwz_attention_forward(q_.p, kh.p, vh.p, qo_.ptr<int32_t>(), ks_.ptr<int32_t>(), oh.p, lh.ptr<float>(), dt, sh.b, sh.t, sh.s, sh.h,
                              sh.hkv, sh.d, float(a.scale), 1),
        "attention head-major");
  compare(std::string(name) + " head-major out", oh.get(), out, t.atol, t.rtol);
  compare(std::string(name) + " head-major lse", lh.get(), lse, t.atol, t.rtol);
  if (!backward) return;
  Buf do_(nq, dt), dq_(nq, dt), dk_(nk, dt), dv_(nk, dt);
  do_.set(dOut);
  check(lwz_attention_backward(q_.p, k_.p, v_.p, qo_.ptr<int32_t>(), ks_.ptr<int32_t>(), o_.p, l_.ptr<float>(), do_.p, dq_.p, dk_.p, dv_.p,
                               dt, sh.b, sh.t, sh.s, sh.h, sh.hkv, sh.d, float(a.scale)),
        "attentionBackward");
  Vec dq(nq), dk(nk), dv(nk);
  // the reference backward starts from the GPU's own out and lse, as the contract's backward does
  ref::attentionBackward(a, q, k, v, o_.get(), l_.get(), dOut, dq, dk, dv);
  const Tol tb = tol("attentionBackward", dt);
  const double grow = std::sqrt(double(sh.s) / 64.0 + 1.0);  // dk/dv sum over up to S queries x group heads
  compare(std::string(name) + " dq", dq_.get(), dq, tb.atol, tb.rtol);
  compare(std::string(name) + " dk", dk_.get(), dk, tb.atol * grow, tb.rtol);
  compare(std::string(name) + " dv", dv_.get(), dv, tb.atol * grow, tb.rtol);
}

}  // namespace

void runAttentionCases(Rng& rng, bool quick) {
  std::vector<Shape> shapes = {
      {"self-attention GQA 1, odd D", 1, 9, 9, 3, 3, 7, {}, {}},
      {"GQA 2, two rows", 2, 17, 17, 4, 2, 16, {}, {}},
      {"GQA 4, T = 1 decode on a 65-token cache", 2, 1, 65, 8, 2, 32, {}, {}},
      {"GQA 4, one row one head group", 1, 1, 1, 4, 1, 8, {}, {}},
      {"KV prefix 23 + left padding", 2, 17, 40, 4, 4, 8, {23, 23}, {0, 5}},
      {"a fully masked query", 1, 4, 4, 2, 1, 4, {0}, {2}},
      {"T = 133 crosses tile edges, GQA 2", 1, 133, 133, 2, 1, 64, {}, {}},
      {"decode T = 3 after a 300-token prefix, padding", 3, 3, 303, 4, 2, 64, {300, 300, 300}, {0, 17, 250}},
      {"D = 96 (padded to tiles), prefix", 1, 70, 200, 6, 3, 96, {130}, {0}},
  };
  if (!quick) {
    shapes.push_back({"Qwen2.5-0.5B heads, T = 1024", 1, 1024, 1024, 14, 2, 64, {}, {}});
    shapes.push_back({"D = 128, GQA 4, T = 300", 2, 300, 300, 8, 2, 128, {}, {}});
    shapes.push_back({"split-K decode, 5000-token cache, B = 4", 4, 1, 5000, 14, 2, 64, {}, {}});
    shapes.push_back({"D = 160 (simple only)", 1, 40, 40, 2, 1, 160, {}, {}});
  }
  for (int dt : {LWZ_F32, LWZ_BF16}) {
    for (const Shape& sh : shapes) {
      const bool big = int64_t(sh.t) * sh.s > 200000;
      for (const std::string impl : {"auto", "simple", "wmma", "flash", "decode"}) {
        if (big && impl == "simple") continue;  // the reference already costs seconds; simple adds nothing here
        if (impl == "decode" && !(sh.t <= 32 && sh.h / sh.hkv * sh.t <= 32 && sh.d <= 128)) continue;
        if (impl == "flash" && sh.d != 64 && sh.d != 128) continue;
        if (impl == "wmma" && sh.d > 128) continue;
        runShape(rng, sh, impl.c_str(), dt, impl != "decode");  // decode has no backward of its own
      }
    }
  }
  check(lwz_set_option("attention", "auto"), "set attention");
}

}  // namespace lab
