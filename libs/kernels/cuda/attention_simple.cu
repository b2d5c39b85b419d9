// Attention v1 (see attention.cuh): one warp per (row b, query i, head h), lanes split the head dim (D <= 256),
// one key at a time with an online softmax in f32. Slow (no reuse of K/V between queries) and obviously right:
// the fallback for D > 128 and a second reference in the lab. Backward: per query, recompute p from lse,
// dS = p (dO.v - dO.out), dq = scale sum dS k (written), dk/dv accumulated with f32 atomics.
#include "attention.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 128, MAXR = SIMPLE_MAX_D / 32;

struct Row {
  int b, i, h, g, lo, hi;
  int64_t qo;
};

__device__ __forceinline__ Row rowOf(int64_t warpId, const AttnShape& a, const int32_t* qOffset, const int32_t* kvStart) {
  Row r;
  r.h = int(warpId % a.h);
  r.i = int(warpId / a.h % a.t);
  r.b = int(warpId / (int64_t(a.h) * a.t));
  r.g = r.h / (a.h / a.hkv);
  r.lo = max(0, kvStart[r.b]);
  r.hi = min(a.s - 1, qOffset[r.b] + r.i);
  r.qo = ((int64_t(r.b) * a.t + r.i) * a.h + r.h) * a.d;
  return r;
}

template <typename T>
__global__ void forwardKernel(AttnIn<T> in, T* out, float* lse, AttnShape a) {
  const int64_t warpId = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (warpId >= int64_t(a.b) * a.t * a.h) return;
  const Row r = rowOf(warpId, a, in.qOffset, in.kvStart);
  float q[MAXR], o[MAXR];
#pragma unroll
  for (int x = 0; x < MAXR; x++) {
    const int d = lane + 32 * x;
    q[x] = d < a.d ? ld(in.q, r.qo + d) : 0.f;
    o[x] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int j = r.lo; j <= r.hi; j++) {
    const int64_t ko = a.kvBase(r.b, r.g) + j * a.ks;  // either k/v layout (attention.cuh)
    float dot = 0.f;
#pragma unroll
    for (int x = 0; x < MAXR; x++) {
      const int d = lane + 32 * x;
      if (d < a.d) dot += q[x] * ld(in.k, ko + d);
    }
    const float s = warpSum(dot) * a.scale;
    const float mNew = fmaxf(m, s);
    const float corr = expf(m - mNew), p = expf(s - mNew);
    l = l * corr + p;
#pragma unroll
    for (int x = 0; x < MAXR; x++) {
      const int d = lane + 32 * x;
      if (d < a.d) o[x] = o[x] * corr + p * ld(in.v, ko + d);
    }
    m = mNew;
  }
#pragma unroll
  for (int x = 0; x < MAXR; x++) {
    const int d = lane + 32 * x;
    if (d < a.d) st(out, r.qo + d, l > 0.f ? o[x] / l : 0.f);
  }
  if (lane == 0) lse[(int64_t(r.b) * a.h + r.h) * a.t + r.i] = l > 0.f ? m + logf(l) : -INFINITY;
}

template <typename T>
__global__ void backwardKernel(AttnIn<T> in, const T* out, const float* lse, const T* dOut, T* dq, float* dkAcc, float* dvAcc, AttnShape a) {
  const int64_t warpId = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (warpId >= int64_t(a.b) * a.t * a.h) return;
  const Row r = rowOf(warpId, a, in.qOffset, in.kvStart);
  const float li = lse[(int64_t(r.b) * a.h + r.h) * a.t + r.i];
  float q[MAXR], go[MAXR], g[MAXR];
  float delta = 0.f;
#pragma unroll
  for (int x = 0; x < MAXR; x++) {
    const int d = lane + 32 * x;
    q[x] = d < a.d ? ld(in.q, r.qo + d) : 0.f;
    go[x] = d < a.d ? ld(dOut, r.qo + d) : 0.f;
    g[x] = 0.f;
    if (d < a.d) delta += go[x] * ld(out, r.qo + d);
  }
  delta = warpSum(delta);
  if (li != -INFINITY) {
    for (int j = r.lo; j <= r.hi; j++) {
      const int64_t ko = ((int64_t(r.b) * a.s + j) * a.hkv + r.g) * a.d;
      float dot = 0.f, dp = 0.f;
#pragma unroll
      for (int x = 0; x < MAXR; x++) {
        const int d = lane + 32 * x;
        if (d < a.d) {
          dot += q[x] * ld(in.k, ko + d);
          dp += go[x] * ld(in.v, ko + d);
        }
      }
      dot = warpSum(dot);
      dp = warpSum(dp);
      const float p = expf(dot * a.scale - li);
      const float ds = p * (dp - delta) * a.scale;
#pragma unroll
      for (int x = 0; x < MAXR; x++) {
        const int d = lane + 32 * x;
        if (d < a.d) {
          g[x] += ds * ld(in.k, ko + d);
          atomicAdd(dkAcc + ko + d, ds * q[x]);
          atomicAdd(dvAcc + ko + d, p * go[x]);
        }
      }
    }
  }
#pragma unroll
  for (int x = 0; x < MAXR; x++) {
    const int d = lane + 32 * x;
    if (d < a.d) st(dq, r.qo + d, g[x]);
  }
}

}  // namespace

template <typename T>
int attnSimpleForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  if (a.d > SIMPLE_MAX_D) return fail("attentionForward", "head dim %d > %d is not supported", a.d, SIMPLE_MAX_D);
  const int64_t threads = int64_t(a.b) * a.t * a.h * 32;
  forwardKernel<T><<<unsigned(ceilDiv(threads, THREADS)), THREADS, 0, stream()>>>(in, out, lse, a);
  return checkLaunch("attentionForward (simple)");
}

template <typename T>
int attnSimpleBackward(const AttnIn<T>& in, const T* out, const float* lse, const T* dOut, T* dq, float* dkAcc, float* dvAcc,
                       const AttnShape& a) {
  if (a.d > SIMPLE_MAX_D) return fail("attentionBackward", "head dim %d > %d is not supported", a.d, SIMPLE_MAX_D);
  const int64_t threads = int64_t(a.b) * a.t * a.h * 32;
  backwardKernel<T><<<unsigned(ceilDiv(threads, THREADS)), THREADS, 0, stream()>>>(in, out, lse, dOut, dq, dkAcc, dvAcc, a);
  return checkLaunch("attentionBackward (simple)");
}

template int attnSimpleForward<float>(const AttnIn<float>&, float*, float*, const AttnShape&);
template int attnSimpleForward<bf16>(const AttnIn<bf16>&, bf16*, float*, const AttnShape&);
template int attnSimpleBackward<float>(const AttnIn<float>&, const float*, const float*, const float*, float*, float*, float*,
                                       const AttnShape&);
template int attnSimpleBackward<bf16>(const AttnIn<bf16>&, const bf16*, const float*, const bf16*, bf16*, float*, float*, const AttnShape&);

}  // namespace lwz
