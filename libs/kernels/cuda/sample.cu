// On-device sampling, one block per row, the exact rule of kernel-signatures.ts sampleForward in float64 so the
// same uniforms give the same ids as ref: p = softmax(logits / temperature); rank by (p desc, id asc); keep the
// top min(topK, V); keep the shortest ranked prefix with mass >= topP * kept mass; walk kept ids in ascending id
// order and return the first whose running sum exceeds u * kept mass (else the last kept). temperature 0: argmax.
// No sort: ranking by p is ranking by the logit, so each cut is a threshold on a 32-bit order key of the logit
// (found bit by bit with block-wide counts / masses) plus an id cut among ties (binary search). The top-k / top-p
// cuts cost ~30-50 passes over the row; plain sampling (topK 0, topP 1) costs four.
#include <climits>

#include "common.cuh"

namespace lwz {
namespace {

constexpr int THREADS = 1024;

/** Monotone in x (-0 and +0 map to one key). */
__device__ __forceinline__ uint32_t orderKey(float x) {
  if (x == 0.f) x = 0.f;
  const uint32_t b = __float_as_uint(x);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Shared {
  double d[32];
  long long c[32];
  float f[32];
  int i[32];
  int first, last;
};

/**
 * Index of the first maximum (ref: best = 0; x[j] > x[best] moves it). NaN never compares greater, so the ref skips
 * it, except at x[0], where nothing can move best: a NaN first value gives 0. A thread must skip NaNs too, or one
 * taken as its first value would hide every later value of its stride.
 */
template <typename T>
__device__ int64_t blockArgmax(const T* x, int64_t v, Shared& sh) {
  if (v > 0 && isnan(ld(x, 0))) return 0;  // the same in every thread: no barrier is skipped by some only
  float bv = -INFINITY;
  int64_t bi = -1;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
    const float xj = ld(x, j);
    if (isnan(xj)) continue;
    if (bi < 0 || xj > bv) {
      bv = xj;
      bi = j;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
    const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
    if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) {
      bv = ov;
      bi = oi;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) {
    sh.f[warp] = bv;
    sh.c[warp] = bi;
  }
  __syncthreads();
  if (warp == 0) {
    bv = lane < int(blockDim.x >> 5) ? sh.f[lane] : -INFINITY;
    bi = lane < int(blockDim.x >> 5) ? sh.c[lane] : -1;
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
      if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) {
        bv = ov;
        bi = oi;
      }
    }
    if (lane == 0) sh.c[0] = bi;
  }
  __syncthreads();
  const int64_t result = sh.c[0];
  __syncthreads();
  return result < 0 ? 0 : result;
}

__device__ double blockMaxDouble(double v, Shared& sh) {
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) sh.d[warp] = v;
  __syncthreads();
  v = lane < int(blockDim.x >> 5) ? sh.d[lane] : -INFINITY;
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/** Exclusive prefix sum over threads in thread order (deterministic). */
__device__ double blockExclusiveScan(double v, Shared& sh) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  double inc = v;
  for (int o = 1; o < 32; o <<= 1) {
    const double up = __shfl_up_sync(0xffffffffu, inc, o);
    if (lane >= o) inc += up;
  }
  __syncthreads();
  if (lane == 31) sh.d[warp] = inc;
  __syncthreads();
  if (warp == 0) {
    double w = lane < warps ? sh.d[lane] : 0.0;
    for (int o = 1; o < 32; o <<= 1) {
      const double up = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w += up;
    }
    if (lane < warps) sh.d[lane] = w;  // inclusive totals per warp
  }
  __syncthreads();
  const double before = warp > 0 ? sh.d[warp - 1] : 0.0;
  const double result = before + inc - v;
  __syncthreads();
  return result;
}

/** Membership of the kept set: key above a threshold, or equal to it with an id at most the id cut. */
struct Cut {
  bool active;
  uint32_t key;
  int64_t id;
  __device__ bool keeps(uint32_t k, int64_t j) const { return !active || k > key || (k == key && j <= id); }
};

template <typename T>
__global__ void __launch_bounds__(THREADS)
    sampleKernel(const T* logits, const float* uniforms, int32_t* ids, int64_t v, double temperature, int64_t topK, double topP) {
  __shared__ Shared sh;
  const int64_t row = blockIdx.x;
  const T* x = logits + row * v;
  if (temperature == 0.0) {
    const int64_t best = blockArgmax(x, v, sh);
    if (threadIdx.x == 0) ids[row] = int32_t(best);
    return;
  }
  double mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) mx = fmax(mx, double(ld(x, j)) / temperature);
  mx = blockMaxDouble(mx, sh);
  double lse = mx;
  if (isfinite(mx)) {
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) s += exp(double(ld(x, j)) / temperature - mx);
    lse = mx + log(blockSum(s, sh.d));
  }
  if (!isfinite(lse)) {
    const int64_t best = blockArgmax(x, v, sh);
    if (threadIdx.x == 0) ids[row] = int32_t(best);
    return;
  }
  auto prob = [&](int64_t j) { return exp(double(ld(x, j)) / temperature - lse); };

  // top-k: the k-th largest key, then the id cut among keys equal to it
  const int64_t k = topK > 0 && topK < v ? topK : v;
  Cut kcut{false, 0u, v - 1};
  if (k < v) {
    uint32_t key = 0u;
    for (int bit = 31; bit >= 0; bit--) {
      const uint32_t cand = key | (1u << bit);
      long long cnt = 0;
      for (int64_t j = threadIdx.x; j < v; j += blockDim.x) cnt += orderKey(ld(x, j)) >= cand;
      if (blockSum<long long>(cnt, sh.c) >= k) key = cand;
    }
    long long gt = 0, eq = 0;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
      const uint32_t kj = orderKey(ld(x, j));
      gt += kj > key;
      eq += kj == key;
    }
    gt = blockSum<long long>(gt, sh.c);
    eq = blockSum<long long>(eq, sh.c);
    kcut = {true, key, v - 1};
    const long long need = k - gt;
    if (eq > need) {
      int64_t lo = 0, hi = v - 1;
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        long long c = 0;
        for (int64_t j = threadIdx.x; j <= mid; j += blockDim.x) c += orderKey(ld(x, j)) == key;
        if (blockSum<long long>(c, sh.c) >= need) hi = mid;
        else lo = mid + 1;
      }
      kcut.id = lo;
    }
  }

  // top-p within the top-k: the largest key whose mass at or above it reaches topP * massK, then the id cut
  Cut pcut{false, 0u, v - 1};
  if (topP < 1.0) {
    double mk = 0.0;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
      if (kcut.keeps(orderKey(ld(x, j)), j)) mk += prob(j);
    }
    const double need = topP * blockSum(mk, sh.d);
    if (!(need > 0.0)) {
      const int64_t best = blockArgmax(x, v, sh);  // keep only the top-ranked token
      pcut = {true, orderKey(ld(x, best)), best};
    } else {
      uint32_t key = 0u;
      for (int bit = 31; bit >= 0; bit--) {
        const uint32_t cand = key | (1u << bit);
        double m = 0.0;
        for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
          const uint32_t kj = orderKey(ld(x, j));
          if (kj >= cand && kcut.keeps(kj, j)) m += prob(j);
        }
        if (blockSum(m, sh.d) >= need) key = cand;
      }
      double mgt = 0.0;
      long long eq = 0;
      for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
        const uint32_t kj = orderKey(ld(x, j));
        if (!kcut.keeps(kj, j)) continue;
        if (kj > key) mgt += prob(j);
        eq += kj == key;
      }
      mgt = blockSum(mgt, sh.d);
      eq = blockSum<long long>(eq, sh.c);
      pcut = {true, key, v - 1};
      if (eq > 1) {
        int64_t lo = 0, hi = v - 1;
        while (lo < hi) {
          const int64_t mid = lo + (hi - lo) / 2;
          double m = 0.0;
          for (int64_t j = threadIdx.x; j <= mid; j += blockDim.x) {
            const uint32_t kj = orderKey(ld(x, j));
            if (kj == key && kcut.keeps(kj, j)) m += prob(j);
          }
          if (mgt + blockSum(m, sh.d) >= need) hi = mid;
          else lo = mid + 1;
        }
        pcut.id = lo;
      }
    }
  }

  // the walk in ascending id order: each thread owns a contiguous chunk; a block scan gives chunk offsets
  auto kept = [&](int64_t j) {
    const uint32_t kj = orderKey(ld(x, j));
    return kcut.keeps(kj, j) && pcut.keeps(kj, j);
  };
  const int64_t chunk = (v + blockDim.x - 1) / blockDim.x;
  const int64_t j0 = threadIdx.x * chunk, j1 = j0 + chunk < v ? j0 + chunk : v;
  double local = 0.0;
  int64_t lastKept = -1;
  for (int64_t j = j0; j < j1; j++) {
    if (kept(j) && prob(j) > 0.0) {  // weight 0 (a -inf logit): never the fallback pick, even at u = 1
      local += prob(j);
      lastKept = j;
    }
  }
  const double mass = blockSum(local, sh.d);
  const double prefix = blockExclusiveScan(local, sh);
  const double target = double(uniforms[row]) * mass;
  if (threadIdx.x == 0) {
    sh.first = INT_MAX;
    sh.last = -1;
  }
  __syncthreads();
  if (local > 0.0 && prefix + local > target) atomicMin(&sh.first, int(threadIdx.x));
  if (lastKept >= 0) atomicMax(&sh.last, int(lastKept));
  __syncthreads();
  if (sh.first == INT_MAX) {
    if (threadIdx.x == 0) ids[row] = sh.last;
    return;
  }
  if (int(threadIdx.x) == sh.first) {
    double run = prefix;
    int64_t pick = lastKept;  // rounding: the crossing fell on this chunk's last kept id
    for (int64_t j = j0; j < j1; j++) {
      if (!kept(j) || !(prob(j) > 0.0)) continue;
      run += prob(j);
      if (run > target) {
        pick = j;
        break;
      }
    }
    ids[row] = int32_t(pick);
  }
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" int lwz_sample(const void* logits, const float* uniforms, int32_t* ids, int dt, int64_t n, int64_t v, double temperature,
                          int64_t top_k, double top_p) {
  const char* name = "sampleForward";
  if (requireInit(name)) return -1;
  if (n == 0) return 0;
  if (v <= 0 || v > 2147483647) return fail(name, "vocabulary size %lld out of range", (long long)v);
  if (!(temperature >= 0.0)) return fail(name, "temperature must be >= 0, got %g", temperature);
  return withDtype(dt, name, [&](auto tag) {
    using T = decltype(tag);
    sampleKernel<T><<<unsigned(n), THREADS, 0, stream()>>>(static_cast<const T*>(logits), uniforms, ids, v, temperature, top_k, top_p);
    return checkLaunch(name);
  });
}
