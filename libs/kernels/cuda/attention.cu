// lwz_attention_forward / backward: shape checks and the choice of version (attention.cuh). Option "attention"
// (LWZ_CUDA_ATTENTION): auto = decode for T <= 4 when it fits, flash for D <= 128, simple otherwise; flash,
// simple, decode force one (the lab runs each). Backward: flash for D <= 128 unless simple is forced; gradients
// accumulate in zeroed f32 buffers (the outputs themselves for f32 storage, scratch then a cast for bf16).
#include <cstring>
#include <utility>

#include "attention.cuh"

using namespace lwz;

namespace {

int checkShape(const char* name, const AttnShape& a) {
  if (a.b < 0 || a.t < 0 || a.s < 0 || a.h <= 0 || a.hkv <= 0 || a.d <= 0 || a.h % a.hkv != 0) {
    return fail(name, "bad shape (B %d, T %d, S %d, H %d, Hkv %d, D %d)", a.b, a.t, a.s, a.h, a.hkv, a.d);
  }
  if (a.b > 65535 || a.h > 65535) return fail(name, "B %d or H %d above 65535", a.b, a.h);
  return 0;
}

AttnShape shapeOf(int64_t b, int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale) {
  return {int(b), int(t), int(s), int(h), int(hkv), int(d), scale};
}

template <typename T>
int forward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  const char* impl = option("attention");
  if (std::strcmp(impl, "simple") == 0 || a.s == 0) return attnSimpleForward(in, out, lse, a);
  if (std::strcmp(impl, "decode") == 0) return attnDecodeForward(in, out, lse, a);
  if (std::strcmp(impl, "flash") == 0) return attnFlashForward(in, out, lse, a);
  if (a.t <= 4 && attnDecodeFits(a)) return attnDecodeForward(in, out, lse, a);
  if (a.d <= FLASH_MAX_D) return attnFlashForward(in, out, lse, a);
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
  const bool flash = a.d <= FLASH_MAX_D && std::strcmp(option("attention"), "simple") != 0;
  Scratch dqAcc(f32 || !flash ? 0 : qn * sizeof(float)), dkAcc(f32 ? 0 : kn * sizeof(float)), dvAcc(f32 ? 0 : kn * sizeof(float));
  Scratch delta(flash ? size_t(a.b) * a.h * a.t * sizeof(float) : 0);
  if (!dqAcc.ok() || !dkAcc.ok() || !dvAcc.ok() || !delta.ok()) return -1;
  float* pdq = f32 ? reinterpret_cast<float*>(dq) : dqAcc.as<float>();
  float* pdk = f32 ? reinterpret_cast<float*>(dk) : dkAcc.as<float>();
  float* pdv = f32 ? reinterpret_cast<float*>(dv) : dvAcc.as<float>();
  if (checkCuda(cudaMemsetAsync(pdk, 0, kn * sizeof(float), stream()), name, "cudaMemsetAsync") ||
      checkCuda(cudaMemsetAsync(pdv, 0, kn * sizeof(float), stream()), name, "cudaMemsetAsync"))
    return -1;
  if (flash) {
    if (checkCuda(cudaMemsetAsync(pdq, 0, qn * sizeof(float), stream()), name, "cudaMemsetAsync")) return -1;
    if (attnFlashBackward(in, out, lse, dOut, pdq, pdk, pdv, delta.as<float>(), a)) return -1;
  } else if (attnSimpleBackward(in, out, lse, dOut, dq, pdk, pdv, a)) {
    return -1;
  }
  if (f32) return 0;
  if (flash && lwz_copy(pdq, LWZ_F32, dq, LWZ_BF16, int64_t(qn))) return -1;
  if (lwz_copy(pdk, LWZ_F32, dk, LWZ_BF16, int64_t(kn))) return -1;
  return lwz_copy(pdv, LWZ_F32, dv, LWZ_BF16, int64_t(kn));
}

}  // namespace

extern "C" {

int lwz_attention_forward(const void* q, const void* k, const void* v, const int32_t* q_offset, const int32_t* kv_start, void* out,
                          float* lse, int dt, int64_t b, int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale) {
  const char* name = "attentionForward";
  if (requireInit(name)) return -1;
  const AttnShape a = shapeOf(b, t, s, h, hkv, d, scale);
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
  const AttnShape a = shapeOf(b, t, s, h, hkv, d, scale);
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
