// Embedding gather out (N, C) = table (V, C)[ids] and its scatter-add backward dTable (V, C) f32 += dOut rows
// (atomicAdd: repeated ids accumulate; the order of additions, so the last bits, varies run to run). An id
// outside [0, V) sets LWZ_ERR_EMBEDDING_ID in the device error word (the TypeScript side raises it at the next
// synchronisation) and its row is left as zeros / skipped.
#include "common.cuh"

namespace lwz {
namespace {

template <typename T>
__global__ void gatherKernel(const T* table, const int32_t* ids, T* out, int64_t n, int64_t c, int64_t v, int* errors) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n * c; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / c, j = idx % c;
    const int32_t id = ids[r];
    if (id < 0 || id >= v) {
      if (j == 0) atomicOr(errors, LWZ_ERR_EMBEDDING_ID);
      st(out, idx, 0.f);
    } else {
      st(out, idx, ld(table, int64_t(id) * c + j));
    }
  }
}

template <typename T>
__global__ void scatterKernel(const T* dOut, const int32_t* ids, float* dTable, int64_t n, int64_t c, int64_t v, int* errors) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n * c; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / c, j = idx % c;
    const int32_t id = ids[r];
    if (id < 0 || id >= v) {
      if (j == 0) atomicOr(errors, LWZ_ERR_EMBEDDING_ID);
    } else {
      atomicAdd(dTable + int64_t(id) * c + j, ld(dOut, idx));
    }
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_embedding_forward(const void* table, const int32_t* ids, void* out, int dt, int64_t n, int64_t c, int64_t v) {
  const char* name = "embeddingForward";
  if (requireInit(name)) return -1;
  if (n * c == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    gatherKernel<T><<<gridFor(n * c, 256), 256, 0, stream()>>>(static_cast<const T*>(table), ids, static_cast<T*>(out), n, c, v,
                                                              deviceErrorWord());
    return checkLaunch(name);
  });
}

int lwz_embedding_backward(const void* d_out, int dt, const int32_t* ids, float* d_table, int64_t n, int64_t c, int64_t v) {
  const char* name = "embeddingBackward";
  if (requireInit(name)) return -1;
  if (n * c == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    scatterKernel<T><<<gridFor(n * c, 256), 256, 0, stream()>>>(static_cast<const T*>(d_out), ids, d_table, n, c, v, deviceErrorWord());
    return checkLaunch(name);
  });
}

}  // extern "C"
