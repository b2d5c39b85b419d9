// lwz_attention_forward / backward: shape checks and the choice of version (attention.cuh). Option "attention"
// (LWZ_CUDA_ATTENTION): simple, wmma, flash or decode force one (the lab runs each; decode has no backward:
// it uses auto's); auto takes decode for T <= 4, then flash, then wmma, then simple, each only once it passed
// the self-check below against simple. Gradients accumulate in zeroed f32 buffers (the outputs
// themselves for f32 storage, scratch then a cast for bf16).
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "attention.cuh"

using namespace lwz;

namespace {

struct Trust {
  bool checked = false, flash = false, flashBackward = false, wmma = false, wmmaBackward = false, decode = false;
  std::string summary = "not checked yet";
};
Trust trust;

int checkShape(const char* name, const AttnShape& a) {
  if (a.b < 0 || a.t < 0 || a.s < 0 || a.h <= 0 || a.hkv <= 0 || a.d <= 0 || a.h % a.hkv != 0) {
    return fail(name, "bad shape (B %d, T %d, S %d, H %d, Hkv %d, D %d)", a.b, a.t, a.s, a.h, a.hkv, a.d);
  }
  if (a.b > 65535 || a.h > 65535) return fail(name, "B %d or H %d above 65535", a.b, a.h);
  return 0;
}

AttnShape shapeOf(int64_t b, int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale, bool headMajor) {
  return attnShape(int(b), int(t), int(s), int(h), int(hkv), int(d), scale, headMajor);
}

/** A device f32 buffer for the self-check, filled with deterministic values in [-2, 2) (or zeros). */
struct CheckBuf {
  Scratch mem;
  size_t n;
  CheckBuf(size_t count, uint32_t seed) : mem(count * sizeof(float)), n(count) {
    if (!mem.ok()) return;
    std::vector<float> host(n, 0.f);
    for (size_t i = 0; seed && i < n; i++) {
      seed = seed * 1664525u + 1013904223u;
      host[i] = float(seed >> 8) / float(1u << 24) * 4.f - 2.f;
    }
    lwz_upload(mem.as<float>(), host.data(), n * sizeof(float));
  }
  float* p() const { return mem.as<float>(); }
  std::vector<float> get() const {
    std::vector<float> host(n);
    lwz_download(host.data(), mem.as<float>(), n * sizeof(float));
    return host;
  }
};

/** |got - want| <= tol + 2e-2 |want| everywhere (bf16 products); infinities must match. */
bool close(const CheckBuf& got, const CheckBuf& want, float tol) {
  const std::vector<float> g = got.get(), w = want.get();
  for (size_t i = 0; i < g.size(); i++) {
    if (std::isinf(w[i]) ? g[i] != w[i] : !(std::fabs(g[i] - w[i]) <= tol + 2e-2f * std::fabs(w[i]))) return false;
  }
  return true;
}

/** Runs each fast version once against simple on small random problems (D 64 and 128, a prefix, padding, both k/v layouts). */
void selfCheck() {
  if (trust.checked) return;
  trust.checked = true;
  bool flash = true, flashBackward = true, wmma = true, wmmaBackward = true, decode = true;
  for (int d : {64, 128}) {
    for (int c = 0; c < 4; c++) {  // T = 70 and 1, over (B, S, Hkv, D) then (forward only) a head-major (B, Hkv, S, D) cache
      const int t = c % 2 == 0 ? 70 : 1;
      const bool headMajor = c >= 2;
      const AttnShape a = attnShape(2, t, t == 1 ? 150 : 83, 4, 2, d, 1.f / std::sqrt(float(d)), headMajor);
      const size_t nq = size_t(a.b) * a.t * a.h * a.d, nk = size_t(a.b) * a.s * a.hkv * a.d, nl = size_t(a.b) * a.h * a.t;
      CheckBuf q(nq, 1), k(nk, 2), v(nk, 3), dOut(nq, 4), out(nq, 0), lse(nl, 0), ref(nq, 0), refLse(nl, 0), rows(4, 0);
      const int32_t hostRows[4] = {a.s - a.t, a.s - a.t, 0, 5};  // qOffset (B,) then kvStart (B,): row 1 left-padded
      lwz_upload(rows.p(), hostRows, sizeof hostRows);
      const int32_t* offsets = reinterpret_cast<const int32_t*>(rows.p());
      const AttnIn<float> in{q.p(), k.p(), v.p(), offsets, offsets + 2};
      if (attnSimpleForward(in, ref.p(), refLse.p(), a) != 0) {
        flash = flashBackward = wmma = wmmaBackward = decode = false;
        continue;
      }
      if (t == 1) {
        decode = decode && attnDecodeForward(in, out.p(), lse.p(), a) == 0 && close(out, ref, 3e-2f) && close(lse, refLse, 3e-2f);
        continue;
      }
      flash = flash && attnFlashForward(in, out.p(), lse.p(), a) == 0 && close(out, ref, 3e-2f) && close(lse, refLse, 3e-2f);
      wmma = wmma && attnWmmaForward(in, out.p(), lse.p(), a) == 0 && close(out, ref, 3e-2f) && close(lse, refLse, 3e-2f);
      if (headMajor) continue;  // the backward takes (B, S, Hkv, D) only
      CheckBuf dq(nq, 0), dk(nk, 0), dv(nk, 0), rdq(nq, 0), rdk(nk, 0), rdv(nk, 0), delta(nl, 0);
      if (attnSimpleBackward(in, ref.p(), refLse.p(), dOut.p(), rdq.p(), rdk.p(), rdv.p(), a) != 0) {
        wmmaBackward = flashBackward = false;
        continue;
      }
      wmmaBackward = wmmaBackward && attnWmmaBackward(in, ref.p(), refLse.p(), dOut.p(), dq.p(), dk.p(), dv.p(), delta.p(), a) == 0 &&
                     close(dq, rdq, 1e-1f) && close(dk, rdk, 1e-1f) && close(dv, rdv, 1e-1f);
      CheckBuf fq(nq, 0), fk(nk, 0), fv(nk, 0);
      flashBackward = flashBackward && attnFlashBackward(in, ref.p(), refLse.p(), dOut.p(), fq.p(), fk.p(), fv.p(), delta.p(), a) == 0 &&
                      close(fq, rdq, 1e-1f) && close(fk, rdk, 1e-1f) && close(fv, rdv, 1e-1f);
    }
  }
  trust.flash = flash;
  trust.flashBackward = flashBackward;
  trust.wmma = wmma;
  trust.wmmaBackward = wmmaBackward;
  trust.decode = decode;
  trust.summary = std::string("self-check against simple: flash ") + (flash ? "ok" : "FAILED") + ", flash backward " +
                  (flashBackward ? "ok" : "FAILED") + ", wmma " + (wmma ? "ok" : "FAILED") +
                  ", wmma backward " + (wmmaBackward ? "ok" : "FAILED") + ", decode " + (decode ? "ok" : "FAILED");
}

template <typename T>
int forward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  const char* impl = option("attention");
  if (std::strcmp(impl, "simple") == 0 || a.s == 0) return attnSimpleForward(in, out, lse, a);
  if (std::strcmp(impl, "decode") == 0) return attnDecodeForward(in, out, lse, a);
  if (std::strcmp(impl, "flash") == 0) return attnFlashForward(in, out, lse, a);
  if (std::strcmp(impl, "wmma") == 0) return attnWmmaForward(in, out, lse, a);
  selfCheck();
  if (a.t <= 4 && attnDecodeFits(a) && trust.decode) return attnDecodeForward(in, out, lse, a);
  if (attnFlashFits(a) && trust.flash) return attnFlashForward(in, out, lse, a);
  if (a.d <= WMMA_MAX_D && trust.wmma) return attnWmmaForward(in, out, lse, a);
  return attnSimpleForward(in, out, lse, a);
}

template <typename T>
int backward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, T* dq, T* dk, T* dv, const AttnShape& a) {
  const char* name = "attentionBackward";
  const bool f32 = sizeof(T) == sizeof(float);
  const size_t qn = size_t(a.b) * a.t * a.h * a.d, kn = size_t(a.b) * a.s * a.hkv * a.d;
  if (a.t == 0 || a.s == 0) {  // nothing attends: every gradient is zero
    for (auto [ptr, n] : {std::pair<void*, size_t>{dq, qn}, {dk, kn}, {dv, kn}}) {
      if (checkCuda(cudaMemsetAsync(ptr, 0, n * sizeof(T), stream()), name, "cudaMemsetAsync")) return -1;
    }
    return 0;
  }
  // the version: forced (decode has no backward: it takes auto's), else the best one that passed its self-check
  const char* impl = option("attention");
  enum { SIMPLE, WMMA, FLASH } kind = SIMPLE;
  if (std::strcmp(impl, "flash") == 0 && attnFlashFits(a)) {
    kind = FLASH;
  } else if ((std::strcmp(impl, "wmma") == 0 || std::strcmp(impl, "flash") == 0) && a.d <= WMMA_MAX_D) {
    kind = WMMA;
  } else if (std::strcmp(impl, "simple") != 0) {
    selfCheck();
    kind = attnFlashFits(a) && trust.flashBackward ? FLASH : a.d <= WMMA_MAX_D && trust.wmmaBackward ? WMMA : SIMPLE;
  }
  const bool tiled = kind != SIMPLE;
  Scratch dqAcc(f32 || !tiled ? 0 : qn * sizeof(float)), dkAcc(f32 ? 0 : kn * sizeof(float)), dvAcc(f32 ? 0 : kn * sizeof(float));
  Scratch delta(tiled ? size_t(a.b) * a.h * a.t * sizeof(float) : 0);
  if (!dqAcc.ok() || !dkAcc.ok() || !dvAcc.ok() || !delta.ok()) return -1;
  float* pdq = f32 ? reinterpret_cast<float*>(dq) : dqAcc.as<float>();
  float* pdk = f32 ? reinterpret_cast<float*>(dk) : dkAcc.as<float>();
  float* pdv = f32 ? reinterpret_cast<float*>(dv) : dvAcc.as<float>();
  if (checkCuda(cudaMemsetAsync(pdk, 0, kn * sizeof(float), stream()), name, "cudaMemsetAsync") ||
      checkCuda(cudaMemsetAsync(pdv, 0, kn * sizeof(float), stream()), name, "cudaMemsetAsync"))
    return -1;
  if (tiled && checkCuda(cudaMemsetAsync(pdq, 0, qn * sizeof(float), stream()), name, "cudaMemsetAsync")) return -1;
  const int rc = kind == FLASH  ? attnFlashBackward(in, out, lse, dOut, pdq, pdk, pdv, delta.as<float>(), a)
                 : kind == WMMA ? attnWmmaBackward(in, out, lse, dOut, pdq, pdk, pdv, delta.as<float>(), a)
                                : attnSimpleBackward(in, out, lse, dOut, dq, pdk, pdv, a);
  if (rc != 0) return -1;
  if (f32) return 0;
  if (tiled && lwz_copy(pdq, LWZ_F32, dq, LWZ_BF16, int64_t(qn))) return -1;
  if (lwz_copy(pdk, LWZ_F32, dk, LWZ_BF16, int64_t(kn))) return -1;
  return lwz_copy(pdv, LWZ_F32, dv, LWZ_BF16, int64_t(kn));
}

}  // namespace

extern "C" {

const char* lwz_attention_status(void) {
  if (requireInit("attentionStatus")) return "not initialised";
  selfCheck();
  return trust.summary.c_str();
}

int lwz_attention_forward(const void* q, const void* k, const void* v, const int32_t* q_offset, const int32_t* kv_start, void* out,
                          float* lse, int dt, int64_t b, int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale,
                          int head_major) {
  const char* name = "attentionForward";
  if (requireInit(name)) return -1;
  const AttnShape a = shapeOf(b, t, s, h, hkv, d, scale, head_major != 0);
  if (checkShape(name, a)) return -1;
  if (a.b == 0 || a.t == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    const AttnIn<T> in{static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_offset, kv_start};
    return forward(in, static_cast<T*>(out), lse, a);
  });
}

int lwz_attention_backward(const void* q, const void* k, const void* v, const int32_t* q_offset, const int32_t* kv_start,
                           const void* out, const float* lse, const void* d_out, void* dq, void* dk, void* dv, int dt, int64_t b,
                           int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale) {
  const char* name = "attentionBackward";
  if (requireInit(name)) return -1;
  const AttnShape a = shapeOf(b, t, s, h, hkv, d, scale, false);  // training's (B, S, Hkv, D) only
  if (checkShape(name, a)) return -1;
  if (a.b == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    const AttnIn<T> in{static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_offset, kv_start};
    return backward(in, static_cast<const T*>(out), lse, static_cast<const T*>(d_out), static_cast<T*>(dq), static_cast<T*>(dk),
                    static_cast<T*>(dv), a);
  });
}

}  // extern "C"
