// Attention kernels' shared declarations. Semantics (ref/attention-forward.ts): query i of row b sees keys j with
// kvStart[b] <= j <= qOffset[b] + i (and j < S); query head h reads kv head h / (H / Hkv); a query that sees no
// key gets out = 0 and lse = -inf. Layouts: q/out/dOut/dq (B, T, H, D), k/v/dk/dv (B, S, Hkv, D), lse (B, H, T);
// the forward also reads k/v head-major (B, Hkv, S, D) (the KV cache's layout, #10): every forward kernel
// addresses keys through AttnShape's strides (kvBase + j * ks), the backward takes (B, S, Hkv, D) only.
// Keys no query of a row sees (j < kvStart, j > qOffset + T - 1: left padding, a cache's unwritten room) may hold
// NaN / inf: the tiled kernels stage them as zeros (0 x NaN in P V, dO V^T, dS K would poison visible rows).
// Versions (llm.c dev/cuda style, each checked against the CPU reference in lab/):
//   simple (attention_simple.cu): one warp per query row, online softmax, any D <= 256. The obvious one.
//   wmma   (attention_wmma_fwd.cu / _bwd.cu): 64-query x 64-key tiles on WMMA bf16 tensor cores, scores and
//          output staged in shared memory, any D <= 128 (zero-padded). Forward and backward.
//   flash  (attention_flash_fwd.cu / _bwd.cu): FlashAttention-2 with scores, output and dK/dV accumulators in
//          registers (raw mma.sync), D 64 or 128.
//   decode (attention_decode.cu): few queries over a long cache, split-K over keys then a combine pass.
// `auto` only uses a version after a one-time self-check against simple on a small random problem
// (attention.cu), so a version that is wrong on some GPU falls back instead of computing garbage.
// Backward kernels accumulate dk/dv (and, for wmma and flash, dq) into zeroed f32 buffers with atomics.
#pragma once
#include "common.cuh"

namespace lwz {

struct AttnShape {
  int b, t, s, h, hkv, d;
  float scale;
  int64_t ks, hs, bs;  // k/v strides in elements: next key, next kv head, next row (attnShape sets them)

  /** Offset of key 0 of (row bb, kv head g); key j is j * ks further. */
  __host__ __device__ int64_t kvBase(int bb, int g) const { return int64_t(bb) * bs + int64_t(g) * hs; }
};

/** The shape with k/v strides of (B, S, Hkv, D) or, headMajor, (B, Hkv, S, D). */
inline AttnShape attnShape(int b, int t, int s, int h, int hkv, int d, float scale, bool headMajor) {
  const int64_t dd = d;
  return {b, t, s, h, hkv, d, scale, headMajor ? dd : int64_t(hkv) * dd, headMajor ? int64_t(s) * dd : dd, int64_t(s) * hkv * dd};
}

template <typename T>
struct AttnIn {
  const T* q;
  const T* k;
  const T* v;
  const int32_t* qOffset;
  const int32_t* kvStart;
};

template <typename T>
int attnSimpleForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a);
/** dq written (type T); dkAcc, dvAcc f32 accumulated (zeroed by the caller). */
template <typename T>
int attnSimpleBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, T* dq, float* dkAcc, float* dvAcc,
                       const AttnShape& a);

template <typename T>
int attnWmmaForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a);
/** dqAcc, dkAcc, dvAcc f32 accumulated (zeroed by the caller); delta (B, H, T) f32 scratch. */
template <typename T>
int attnWmmaBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, float* dqAcc, float* dkAcc, float* dvAcc,
                     float* delta, const AttnShape& a);

/** delta (B, H, T) = rowsum(dOut * out), the backward's per-query constant. */
template <typename T>
int attnDelta(const T* out, const T* dOut, float* delta, const AttnShape& a);

template <typename T>
int attnFlashForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a);
/** Same contract as attnWmmaBackward. */
template <typename T>
int attnFlashBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, float* dqAcc, float* dkAcc, float* dvAcc,
                      float* delta, const AttnShape& a);
/** Whether the register-resident forward has a build for this head dim (64, 128). */
bool attnFlashFits(const AttnShape& a);

template <typename T>
int attnDecodeForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a);
/** Whether the decode kernel handles the shape (few query rows per kv head, D <= 128). */
bool attnDecodeFits(const AttnShape& a);

constexpr int WMMA_MAX_D = 128, SIMPLE_MAX_D = 256;

}  // namespace lwz
