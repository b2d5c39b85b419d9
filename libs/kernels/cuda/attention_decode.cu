// Attention for decoding (see attention.cuh): a handful of queries (T * H / Hkv <= 32 rows per kv head) over a
// long KV cache. Split-K: block (split, kv head, row) stages 64-key chunks of its key range in shared memory once
// and every query row of the kv head's group reads them (GQA reuse); each warp keeps an online softmax per row
// in registers and writes an unnormalised partial (o, m, l). A combine pass merges the splits per query:
// M = max m_s, L = sum l_s e^(m_s - M), out = sum o_s e^(m_s - M) / L, lse = M + log L. f32 throughout.
#include "attention.cuh"

namespace lwz {
namespace {

constexpr int KC = 64, WARPS = 4, THREADS = WARPS * 32, MAX_ROWS = 32, ROWS_PER_WARP = MAX_ROWS / WARPS, DV = WMMA_MAX_D / 32;

size_t smemBytes(int rows, int d) { return (size_t(rows) * d + size_t(KC) * (d + 1) + size_t(KC) * d) * sizeof(float); }

template <typename T>
__global__ void __launch_bounds__(THREADS)
    splitKernel(AttnIn<T> in, AttnShape a, int keysPerSplit, int splits, float* oPart, float* mPart, float* lPart) {
  extern __shared__ float dsm[];
  const int group = a.h / a.hkv, rows = group * a.t, d = a.d;
  float* sQ = dsm;                      // (rows, d) scaled queries of the group
  float* sK = sQ + rows * d;            // (KC, d + 1) keys of the chunk (padded: lanes read different rows)
  float* sV = sK + KC * (d + 1);        // (KC, d) values of the chunk
  const int split = blockIdx.x, g = blockIdx.y, bb = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int off = in.qOffset[bb], lo = max(0, in.kvStart[bb]);
  const int k0 = split * keysPerSplit, k1 = min(a.s, k0 + keysPerSplit);
  const int64_t kRow = a.ks, kBase = a.kvBase(bb, g);  // either k/v layout (attention.cuh)

  for (int e = threadIdx.x; e < rows * d; e += blockDim.x) {
    const int r = e / d, c = e % d, hh = g * group + r / a.t, i = r % a.t;
    sQ[e] = ld(in.q, ((int64_t(bb) * a.t + i) * a.h + hh) * d + c) * a.scale;
  }
  float o[ROWS_PER_WARP][DV], m[ROWS_PER_WARP], l[ROWS_PER_WARP];
#pragma unroll
  for (int x = 0; x < ROWS_PER_WARP; x++) {
    m[x] = -INFINITY;
    l[x] = 0.f;
#pragma unroll
    for (int y = 0; y < DV; y++) o[x][y] = 0.f;
  }

  for (int c0 = k0; c0 < k1 && c0 <= off + a.t - 1; c0 += KC) {
    if (c0 + KC - 1 < lo) continue;
    __syncthreads();  // the previous chunk is consumed (and sQ is written, on the first pass)
    for (int e = threadIdx.x; e < KC * d; e += blockDim.x) {
      const int r = e / d, c = e % d, j = c0 + r;
      // keys no query of the row sees (before lo, past off + T - 1) load as zeros, so a NaN / inf in left padding
      // or an unwritten cache slot never enters arithmetic (p V is also skipped at p = 0 below)
      const bool ok = j < k1 && j >= lo && j <= off + a.t - 1;
      sK[r * (d + 1) + c] = ok ? ld(in.k, kBase + int64_t(j) * kRow + c) : 0.f;
      sV[r * d + c] = ok ? ld(in.v, kBase + int64_t(j) * kRow + c) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int x = 0; x < ROWS_PER_WARP; x++) {
      const int r = warp + WARPS * x;
      if (r >= rows) continue;
      const int i = r % a.t;
      const float* qr = sQ + r * d;
      float s0 = 0.f, s1 = 0.f;
      for (int c = 0; c < d; c++) {
        s0 += qr[c] * sK[lane * (d + 1) + c];
        s1 += qr[c] * sK[(lane + 32) * (d + 1) + c];
      }
      const int ja = c0 + lane, jb = c0 + lane + 32;
      if (!(ja >= lo && ja <= off + i && ja < k1)) s0 = -INFINITY;
      if (!(jb >= lo && jb <= off + i && jb < k1)) s1 = -INFINITY;
      const float mNew = fmaxf(m[x], warpMax(fmaxf(s0, s1)));
      if (mNew == -INFINITY) continue;
      const float corr = __expf(m[x] - mNew), p0 = __expf(s0 - mNew), p1 = __expf(s1 - mNew);
      l[x] = l[x] * corr + warpSum(p0 + p1);
#pragma unroll
      for (int y = 0; y < DV; y++) o[x][y] *= corr;
      for (int jl = 0; jl < KC; jl++) {
        const float pj = __shfl_sync(0xffffffffu, jl < 32 ? p0 : p1, jl & 31);
        if (pj == 0.f) continue;
#pragma unroll
        for (int y = 0; y < DV; y++) {
          const int c = lane + 32 * y;
          if (c < d) o[x][y] += pj * sV[jl * d + c];
        }
      }
      m[x] = mNew;
    }
  }

#pragma unroll
  for (int x = 0; x < ROWS_PER_WARP; x++) {
    const int r = warp + WARPS * x;
    if (r >= rows) continue;
    const int hh = g * group + r / a.t, i = r % a.t;
    const int64_t idx = ((int64_t(bb) * a.h + hh) * a.t + i) * splits + split;
#pragma unroll
    for (int y = 0; y < DV; y++) {
      const int c = lane + 32 * y;
      if (c < d) oPart[idx * d + c] = o[x][y];
    }
    if (lane == 0) {
      mPart[idx] = m[x];
      lPart[idx] = l[x];
    }
  }
}

template <typename T>
__global__ void combineKernel(const float* oPart, const float* mPart, const float* lPart, int splits, T* out, float* lse, AttnShape a) {
  const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;  // (b, h, i) in lse order
  const int lane = threadIdx.x & 31;
  if (row >= int64_t(a.b) * a.h * a.t) return;
  const int i = int(row % a.t), hh = int(row / a.t % a.h), bb = int(row / (int64_t(a.t) * a.h));
  float mx = -INFINITY;
  for (int s = lane; s < splits; s += 32) mx = fmaxf(mx, mPart[row * splits + s]);
  mx = warpMax(mx);
  float total = 0.f;
  for (int s = lane; s < splits; s += 32) {
    const float ms = mPart[row * splits + s];
    if (ms != -INFINITY) total += lPart[row * splits + s] * __expf(ms - mx);
  }
  total = warpSum(total);
  const int64_t o = ((int64_t(bb) * a.t + i) * a.h + hh) * a.d;
  for (int c = lane; c < a.d; c += 32) {
    float acc = 0.f;
    for (int s = 0; s < splits; s++) {
      const float ms = mPart[row * splits + s];
      if (ms != -INFINITY) acc += oPart[(row * splits + s) * a.d + c] * __expf(ms - mx);
    }
    st(out, o + c, total > 0.f ? acc / total : 0.f);
  }
  if (lane == 0) lse[row] = total > 0.f ? mx + logf(total) : -INFINITY;
}

}  // namespace

bool attnDecodeFits(const AttnShape& a) { return a.d <= WMMA_MAX_D && int64_t(a.h / a.hkv) * a.t <= MAX_ROWS; }

template <typename T>
int attnDecodeForward(const AttnIn<T>& in, T* out, float* lse, const AttnShape& a) {
  const char* name = "attentionForward (decode)";
  if (!attnDecodeFits(a)) return fail(name, "shape outside the decode kernel (D %d, %d query rows per kv head)", a.d, a.h / a.hkv * a.t);
  const int rows = a.h / a.hkv * a.t;
  const size_t bytes = smemBytes(rows, a.d);
  if (int(bytes) > maxSmemOptin()) return fail(name, "needs %zu bytes of shared memory, the device allows %d", bytes, maxSmemOptin());
  const int chunks = int(ceilDiv(a.s, KC));
  int splits = int(ceilDiv(2 * smCount(), int64_t(a.b) * a.hkv));
  splits = splits < 1 ? 1 : splits > chunks ? chunks : splits > 64 ? 64 : splits;
  const int keysPerSplit = int(ceilDiv(ceilDiv(a.s, splits), KC) * KC);
  splits = int(ceilDiv(a.s, keysPerSplit));
  if (splits < 1) splits = 1;
  const int64_t parts = int64_t(a.b) * a.h * a.t * splits;
  Scratch oPart(size_t(parts) * a.d * sizeof(float)), mPart(size_t(parts) * sizeof(float)), lPart(size_t(parts) * sizeof(float));
  if (!oPart.ok() || !mPart.ok() || !lPart.ok()) return -1;
  if (checkCuda(cudaFuncSetAttribute(splitKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)), name, "cudaFuncSetAttribute"))
    return -1;
  const dim3 grid(unsigned(splits), unsigned(a.hkv), unsigned(a.b));
  splitKernel<T><<<grid, THREADS, bytes, stream()>>>(in, a, keysPerSplit, splits, oPart.as<float>(), mPart.as<float>(), lPart.as<float>());
  if (checkLaunch(name)) return -1;
  const int64_t threads = int64_t(a.b) * a.h * a.t * 32;
  combineKernel<T><<<unsigned(ceilDiv(threads, 128)), 128, 0, stream()>>>(oPart.as<float>(), mPart.as<float>(), lPart.as<float>(), splits,
                                                                          out, lse, a);
  return checkLaunch(name);
}

template int attnDecodeForward<float>(const AttnIn<float>&, float*, float*, const AttnShape&);
template int attnDecodeForward<bf16>(const AttnIn<bf16>&, bf16*, float*, const AttnShape&);

}  // namespace lwz
