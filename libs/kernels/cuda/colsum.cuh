// Column sums of an (N, C) expression, deterministic: pass 1 sums row chunks per column in f32 (threads walk
// columns, so reads coalesce), pass 2 adds the chunk partials in a fixed order in f64 into out (C,) f32.
// Used by sumRows (the bias gradient) and RMSNorm's weight gradient. `value` is a functor value(r, c).
#pragma once
#include "common.cuh"

namespace lwz {

template <typename F>
__global__ void colsumPartial(F value, float* partial, int64_t n, int64_t c, int64_t rowsPerChunk) {
  const int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (col >= c) return;
  const int64_t r0 = int64_t(blockIdx.y) * rowsPerChunk;
  const int64_t r1 = r0 + rowsPerChunk < n ? r0 + rowsPerChunk : n;
  float acc = 0.f;
  for (int64_t r = r0; r < r1; r++) acc += value(r, col);
  partial[blockIdx.y * c + col] = acc;
}

static __global__ void colsumFinish(const float* partial, float* out, int64_t c, int chunks, bool accumulate) {
  const int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (col >= c) return;
  double acc = 0.0;
  for (int i = 0; i < chunks; i++) acc += partial[int64_t(i) * c + col];
  out[col] = float(accumulate ? double(out[col]) + acc : acc);
}

/** out (C,) (+)= sum over r < n of value(r, c). */
template <typename F>
int colsum(const char* name, F value, float* out, int64_t n, int64_t c, bool accumulate) {
  if (c == 0) return 0;
  if (n == 0) return accumulate ? 0 : checkCuda(cudaMemsetAsync(out, 0, size_t(c) * sizeof(float), stream()), name, "cudaMemsetAsync");
  int64_t chunks = ceilDiv(n, 64);
  if (chunks > 256) chunks = 256;
  const int64_t rowsPerChunk = ceilDiv(n, chunks);
  chunks = ceilDiv(n, rowsPerChunk);
  Scratch partial(size_t(chunks * c) * sizeof(float));
  if (!partial.ok()) return -1;
  const int threads = 256;
  const dim3 grid1(unsigned(ceilDiv(c, threads)), unsigned(chunks));
  colsumPartial<F><<<grid1, threads, 0, stream()>>>(value, partial.as<float>(), n, c, rowsPerChunk);
  if (checkLaunch(name)) return -1;
  colsumFinish<<<unsigned(ceilDiv(c, threads)), threads, 0, stream()>>>(partial.as<float>(), out, c, int(chunks), accumulate);
  return checkLaunch(name);
}

}  // namespace lwz
