// Elementwise kernels: add and mul with suffix broadcast (b[i % nb]: a bias (C,) against (N, C)), scale/axpy
// (out = alpha a + beta out; beta = 0 never reads out), copy with dtype conversion, copy at per-row positions
// (the KV cache's append), fill. Grid-stride loops,
// f32 math; in place (out == a) is allowed everywhere since each index is read before it is written.
#include "common.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 256;

template <typename T, bool MUL, bool BCAST>
__global__ void binaryKernel(const T* a, const T* b, T* out, int64_t n, int64_t nb) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float x = ld(a, i), y = ld(b, BCAST ? i % nb : i);
    st(out, i, MUL ? x * y : x + y);
  }
}

template <typename T>
__global__ void scaleKernel(const T* a, T* out, int64_t n, float alpha, float beta) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = alpha * ld(a, i);
    st(out, i, beta == 0.f ? v : v + beta * ld(out, i));
  }
}

template <typename TS, typename TD>
__global__ void copyKernel(const TS* src, TD* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) st(dst, i, ld(src, i));
}

constexpr int kAtRows = 64;  // rows whose positions one copyAt launch takes by value
struct RowPositions {
  int32_t at[kAtRows];
};

// Row r (blockIdx.y) of src (T, heads, e values: rowLen) to dst row r (rowStride values: heads, s, e) at position
// pos.at[r]: value (t, h, x) goes to dst (h, at + t, x), so heads = 1 is a plain row copy and heads = Hkv the
// head-major KV cache's append. src and dst point at this launch's first row. TS/TD: storage types
// (copyAtWordsKernel: raw i32 words).
__device__ __forceinline__ int64_t copyAtDst(int64_t i, int32_t at, int64_t s, int64_t e, int64_t heads) {
  const int64_t x = i % e, h = i / e % heads, t = i / (e * heads);
  return (h * s + at + t) * e + x;
}

template <typename TS, typename TD>
__global__ void copyAtKernel(const TS* src, TD* dst, RowPositions pos, int64_t rowLen, int64_t rowStride, int64_t s, int64_t e, int64_t heads) {
  const int r = blockIdx.y;
  const TS* from = src + r * rowLen;
  TD* to = dst + r * rowStride;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < rowLen; i += int64_t(gridDim.x) * blockDim.x)
    st(to, copyAtDst(i, pos.at[r], s, e, heads), ld(from, i));
}

__global__ void copyAtWordsKernel(const uint32_t* src, uint32_t* dst, RowPositions pos, int64_t rowLen, int64_t rowStride, int64_t s, int64_t e,
                                  int64_t heads) {
  const int r = blockIdx.y;
  const uint32_t* from = src + r * rowLen;
  uint32_t* to = dst + r * rowStride;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < rowLen; i += int64_t(gridDim.x) * blockDim.x)
    to[copyAtDst(i, pos.at[r], s, e, heads)] = from[i];
}

template <typename T>
__global__ void fillKernel(T* out, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) st(out, i, value);
}

__global__ void fillI32Kernel(int32_t* out, int64_t n, int32_t value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) out[i] = value;
}

template <bool MUL>
int binary(const char* name, const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) {
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (nb <= 0 || n % nb != 0) return fail(name, "b has %lld values, which does not divide a's %lld", (long long)nb, (long long)n);
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    if (nb == n) {
      binaryKernel<T, MUL, false><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(pa, pb, static_cast<T*>(out), n, nb);
    } else {
      binaryKernel<T, MUL, true><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(pa, pb, static_cast<T*>(out), n, nb);
    }
    return checkLaunch(name);
  });
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

int lwz_add(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) { return binary<false>("addForward", a, b, out, dt, n, nb); }

int lwz_mul(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb) { return binary<true>("mulForward", a, b, out, dt, n, nb); }

int lwz_scale(const void* a, void* out, int dt, int64_t n, float alpha, float beta) {
  const char* name = "scaleForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    scaleKernel<T><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<const T*>(a), static_cast<T*>(out), n, alpha, beta);
    return checkLaunch(name);
  });
}

int lwz_copy(const void* src, int sdt, void* dst, int ddt, int64_t n) {
  const char* name = "copyForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (sdt == ddt) {
    if (sdt != LWZ_F32 && sdt != LWZ_BF16 && sdt != LWZ_I32) return fail(name, "unknown dtype %d", sdt);
    const size_t bytes = size_t(n) * (sdt == LWZ_BF16 ? 2 : 4);
    return checkCuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), name, "cudaMemcpyAsync");
  }
  return withDtype(sdt, name, [&](auto stag) {
    using TS = decltype(stag);
    return withDtype(ddt, name, [&](auto dtag) {
      using TD = decltype(dtag);
      copyKernel<TS, TD><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<const TS*>(src), static_cast<TD*>(dst), n);
      return checkLaunch(name);
    });
  });
}

int lwz_copy_at(const void* src, int sdt, void* dst, int ddt, const int32_t* at, int64_t b, int64_t t, int64_t s, int64_t e, int64_t heads) {
  const char* name = "copyAtForward";
  if (requireInit(name)) return -1;
  if (b < 0 || t < 0 || e < 0 || s < t || heads < 1)
    return fail(name, "bad sizes b %lld, t %lld, s %lld, e %lld, heads %lld", (long long)b, (long long)t, (long long)s, (long long)e,
                (long long)heads);
  for (int64_t r = 0; r < b; r++)
    if (at[r] < 0 || at[r] + t > s) return fail(name, "row %lld: %lld positions from %d do not fit in %lld", (long long)r, (long long)t, at[r], (long long)s);
  if (b == 0 || t == 0 || e == 0) return 0;
  if ((sdt == LWZ_I32) != (ddt == LWZ_I32)) return fail(name, "cannot copy between i32 and float storage (%d -> %d)", sdt, ddt);
  const int64_t rowLen = t * heads * e, rowStride = heads * s * e;
  const unsigned blocksX = gridFor(rowLen, THREADS, 64);
  // positions go by value, kAtRows rows per launch (a decode batch is one launch)
  const auto launch = [&](auto* from, auto* to, auto kernel) {
    for (int64_t r0 = 0; r0 < b; r0 += kAtRows) {
      const int rows = int(b - r0 < kAtRows ? b - r0 : kAtRows);
      RowPositions pos{};
      for (int r = 0; r < rows; r++) pos.at[r] = at[r0 + r];
      kernel<<<dim3(blocksX, rows), THREADS, 0, stream()>>>(from + r0 * rowLen, to + r0 * rowStride, pos, rowLen, rowStride, s, e, heads);
      if (checkLaunch(name)) return -1;
    }
    return 0;
  };
  if (sdt == LWZ_I32) return launch(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), copyAtWordsKernel);
  return withDtype(sdt, name, [&](auto stag) {
    using TS = decltype(stag);
    return withDtype(ddt, name, [&](auto dtag) {
      using TD = decltype(dtag);
      return launch(static_cast<const TS*>(src), static_cast<TD*>(dst), copyAtKernel<TS, TD>);
    });
  });
}

int lwz_fill(void* out, int dt, int64_t n, double value) {
  const char* name = "fillForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (dt == LWZ_I32) {
    if (value != double(int32_t(value))) return fail(name, "an i32 fill needs an integer value, got %g", value);
    fillI32Kernel<<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<int32_t*>(out), n, int32_t(value));
    return checkLaunch(name);
  }
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    fillKernel<T><<<gridFor(n, THREADS), THREADS, 0, stream()>>>(static_cast<T*>(out), n, float(value));
    return checkLaunch(name);
  });
}

}  // extern "C"
