// SwiGLU forward and backward over n values (ref/swiglu.ts): out = silu(g) u, silu(g) = g sigmoid(g);
// dUp = dOut silu(g); dGate = dOut u sig(g) (1 + g (1 - sig(g))). Not the gate/up projections (matmuls).
#include "common.cuh"

namespace lwz {
namespace {

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

template <typename T>
__global__ void forwardKernel(const T* gate, const T* up, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = ld(gate, i);
    st(out, i, g * sigmoid(g) * ld(up, i));
  }
}

template <typename T>
__global__ void backwardKernel(const T* dOut, const T* gate, const T* up, T* dGate, T* dUp, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = ld(gate, i), u = ld(up, i), d = ld(dOut, i);
    const float sg = sigmoid(g);
    st(dGate, i, d * u * sg * (1.f + g * (1.f - sg)));
    st(dUp, i, d * g * sg);
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_swiglu_forward(const void* gate, const void* up, void* out, int dt, int64_t n) {
  const char* name = "swigluForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    forwardKernel<T><<<gridFor(n, 256), 256, 0, stream()>>>(static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<T*>(out), n);
    return checkLaunch(name);
  });
}

int lwz_swiglu_backward(const void* d_out, const void* gate, const void* up, void* d_gate, void* d_up, int dt, int64_t n) {
  const char* name = "swigluBackward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    backwardKernel<T><<<gridFor(n, 256), 256, 0, stream()>>>(static_cast<const T*>(d_out), static_cast<const T*>(gate),
                                                            static_cast<const T*>(up), static_cast<T*>(d_gate), static_cast<T*>(d_up), n);
    return checkLaunch(name);
  });
}

}  // extern "C"
