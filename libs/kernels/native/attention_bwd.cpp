// attentionBackward, FlashAttention-2 style on the GEMM register-tile micro-kernels (gemm.h, the same ISA
// dispatch as matmul and the packed forward). Per (query tile, key tile) pair it recomputes S = Q K^T from the
// saved lse, P = exp(S - lse), dP = dO V^T, dS = P (dP - delta) scale, then dV^T += dO^T P, dK^T += Q^T dS and
// dQ += dS K: five tile GEMMs on packed panels, tiles of tq x tk, never a (T, S) matrix. S and dP are written
// by the micro-kernel straight into the packed layout the dV/dK products read, so per pair only dS is
// repacked. Tasks are (row, kv head, share of the key tiles): a share's dK/dV are its own, and its dQ goes to
// dq (share 0) or to its own partial buffer, summed into dq in a fixed order at the end: race-free,
// deterministic, no atomics. Key tiles are taken in blocks of kBlock so the packed keys stay in cache.
#include <cstdlib>

#include "attention.h"
#include "gemm.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

// fastExp's clamps are selects that GCC only if-converts (so the P/dS pass vectorises) when FP operations
// may be evaluated speculatively; no flag here reorders arithmetic. (Redundant once the whole addon builds
// with -fno-trapping-math.)
#pragma GCC optimize("no-trapping-math")

namespace lwz {
namespace {

constexpr long kBwdKTile = 96;  // keys per tile: a multiple of MR and NR of every micro-kernel (12x32, 6x16, 4x8)
constexpr long kBlock = 8;      // key tiles packed at once
constexpr long kMaxPanel = 64;  // widest register tile dimension the packing supports

struct BwdIo {
  const float *q, *k, *v, *lse, *dOut, *delta;
  float *dk, *dv;
};

struct Tiles {
  const GemmKernels& kk;
  long mr, nr, tq, tk;
  long dp, dm;  // head dim rounded up to NR (dQ columns) and to MR (dK^T, dV^T rows)
};

/** C[MR x NR] (row stride ldc) (+)= alpha * sum_{p < kc} a[p*MR + i] b[p*NR + j]: the one micro-kernel call here. */
[[gnu::always_inline]] inline void registerTile(const Tiles& t, long kc, const float* a, const float* b, float* c, long ldc, float alpha,
                                                bool accumulate) {
  t.kk.micro(kc, a, b, c, ldc, alpha, accumulate);
}

/** Rows base + r*stride (r < n; zero rows up to nPad) as panels of w rows, depth `depth`: [(r/w)*w*depth + x*w + r%w]. */
LWZ_CLONES void packPanels(const float* base, long stride, long n, long nPad, long depth, long w, const float* zero, float* dst) {
  const float* src[kMaxPanel];
  for (long p0 = 0; p0 < nPad; p0 += w) {
    for (long r = 0; r < w; r++) src[r] = p0 + r < n ? base + (p0 + r) * stride : zero;
    float* out = dst + p0 * depth;
    for (long x = 0; x < depth; x++, out += w)
      for (long r = 0; r < w; r++) out[r] = src[r][x];
  }
}

/** Rows base + r*stride as panels of w columns, depth = rows: [(x/w)*w*nPad + r*w + x%w], zero past n rows / cols. */
LWZ_CLONES void packColumns(const float* base, long stride, long n, long nPad, long cols, long colsPad, long w, float* dst) {
  for (long r = 0; r < nPad; r++) {
    const float* src = base + r * stride;
    for (long x0 = 0; x0 < colsPad; x0 += w) {
      float* __restrict out = dst + x0 * nPad + r * w;
      const long m = r < n ? maxL(0, minL(w, cols - x0)) : 0;
      for (long x = 0; x < m; x++) out[x] = src[x0 + x];
      for (long x = m; x < w; x++) out[x] = 0.0f;
    }
  }
}

/**
 * P and dS in place over key panels [0, nKeys) of the packed (NR keys, depth tq) layout: sP holds S, sD holds dP
 * on entry. Row q sees keys [jLo[q], jHi[q]) of the tile; everything else becomes 0 (stale values included).
 */
LWZ_CLONES void probabilities(const Tiles& t, long nKeys, const long* jLo, const long* jHi, const float* lse, const float* delta,
                              float scale, float* __restrict sP, float* __restrict sD) {
  const long nr = t.nr, tq = t.tq;
  for (long jp = 0; jp < nKeys; jp += nr)
    for (long q = 0; q < tq; q++) {
      float* __restrict s = sP + jp * tq + q * nr;
      float* __restrict d = sD + jp * tq + q * nr;
      const long lo = jLo[q] - jp, hi = jHi[q] - jp;
      const float l = lse[q], dl = delta[q];
      for (long c = 0; c < nr; c++) {  // branch-free so it vectorises: masked entries may hold stale values
        const bool in = (c >= lo) & (c < hi);
        const float p = fastExp(s[c] - l), dv = d[c];
        s[c] = in ? p : 0.0f;
        d[c] = in ? p * (dv - dl) * scale : 0.0f;
      }
    }
}

/** dS from the packed (NR keys, depth tq) layout to MR-query panels of depth tk: [(q/mr)*mr*tk + j*mr + q%mr], j < nKeys. */
LWZ_CLONES void packScoresByQuery(const Tiles& t, long nKeys, const float* sD, float* dst) {
  const long mr = t.mr, nr = t.nr, tq = t.tq, tk = t.tk;
  for (long q0 = 0; q0 < tq; q0 += mr)
    for (long j = 0; j < nKeys; j++) {
      const float* src = sD + (j / nr) * nr * tq + q0 * nr + j % nr;
      float* __restrict out = dst + q0 * tk + j * mr;
      for (long r = 0; r < mr; r++) out[r] = src[r * nr];
    }
}

struct Work {
  float *zero, *kS, *vP, *kQ, *dKT, *dVT;  // per block: packed keys/values, dK^T and dV^T accumulators
  float *qA, *oA, *qT, *oT;                // per query tile: Q and dO as MR-query panels, Q^T and dO^T as MR-dim panels
  float *sP, *sD, *sA, *dQ;                // per pair: P and dS packed by key, dS packed by query; dQ of the query tile
  long *jLo, *jHi;
  float *lse, *delta;
};

/** Scratch floats carve() hands out: 20 buffers, each rounded up to 16 floats. */
size_t workFloats(const Tiles& t, long d) {
  return static_cast<size_t>(20 * 16 + d + kBlock * t.tk * (2 * d + t.dp + 2 * t.dm) + 2 * t.tq * d + 2 * t.dm * t.tq + 3 * t.tq * t.tk +
                             t.tq * t.dp + 6 * t.tq);
}

Work carve(const Tiles& t, long d, float* base) {
  Work w{};
  float* p = base;
  const auto take = [&p](long n) {  // 64-byte aligned, as the micro-kernels' aligned panel loads need
    float* r = p;
    p += roundUp(n, 16);
    return r;
  };
  w.jLo = reinterpret_cast<long*>(take(2 * t.tq));  // a long is two floats wide
  w.jHi = reinterpret_cast<long*>(take(2 * t.tq));
  w.zero = take(d);
  w.kS = take(kBlock * t.tk * d);
  w.vP = take(kBlock * t.tk * d);
  w.kQ = take(kBlock * t.tk * t.dp);
  w.dKT = take(kBlock * t.dm * t.tk);
  w.dVT = take(kBlock * t.dm * t.tk);
  w.qA = take(t.tq * d);
  w.oA = take(t.tq * d);
  w.qT = take(t.dm * t.tq);
  w.oT = take(t.dm * t.tq);
  w.sP = take(t.tq * t.tk);
  w.sD = take(t.tq * t.tk);
  w.sA = take(t.tq * t.tk);
  w.dQ = take(t.tq * t.dp);
  w.lse = take(t.tq);
  w.delta = take(t.tq);
  for (long x = 0; x < d; x++) w.zero[x] = 0.0f;
  return w;
}

// One (query tile, key tile) pair: b is the tile's index in the block, j0 its first key, i0 the first query.
void pair(const AttnDims& a, const Tiles& t, const Work& w, long bb, long i0, long nq, long b, long j0, long nk) {
  const long d = a.d, mr = t.mr, nr = t.nr, tq = t.tq, tk = t.tk, lo = a.lo(bb);
  const long hiLast = a.hi(bb, i0 + nq - 1);
  const long kVis = minL(nk, hiLast + 1 - j0), nKeys = roundUp(kVis, nr);  // keys any query of the tile sees
  const float *kS = w.kS + b * tk * d, *vP = w.vP + b * tk * d, *kQ = w.kQ + b * tk * t.dp;
  for (long jp = 0; jp < nKeys; jp += nr) {
    if (jp + nr <= lo - j0) continue;
    for (long q0 = 0; q0 < tq; q0 += mr) {
      if (q0 >= nq || jp > a.hi(bb, i0 + minL(nq - 1, q0 + mr - 1)) - j0) continue;  // masked for every row: never read
      registerTile(t, d, w.qA + q0 * d, kS + jp * d, w.sP + jp * tq + q0 * nr, nr, a.scale, false);
      registerTile(t, d, w.oA + q0 * d, vP + jp * d, w.sD + jp * tq + q0 * nr, nr, 1.0f, false);
    }
  }
  for (long q = 0; q < tq; q++) {
    const bool any = q < nq && w.lse[q] != -INFINITY;
    w.jLo[q] = maxL(0, lo - j0);
    w.jHi[q] = any ? minL(nk, a.hi(bb, i0 + q) + 1 - j0) : 0;
  }
  probabilities(t, nKeys, w.jLo, w.jHi, w.lse, w.delta, a.scale, w.sP, w.sD);
  const long qOff = a.qOffset[bb];
  for (long jp = 0; jp < nKeys; jp += nr) {
    const long qs = maxL(0, j0 + jp - qOff - i0);  // first query of the tile that sees a key of this panel
    if (qs >= nq || jp + nr <= lo - j0) continue;
    for (long x0 = 0; x0 < t.dm; x0 += mr) {
      registerTile(t, nq - qs, w.oT + x0 * tq + qs * mr, w.sP + jp * tq + qs * nr, w.dVT + b * t.dm * tk + x0 * tk + jp, tk, 1.0f, true);
      registerTile(t, nq - qs, w.qT + x0 * tq + qs * mr, w.sD + jp * tq + qs * nr, w.dKT + b * t.dm * tk + x0 * tk + jp, tk, 1.0f, true);
    }
  }
  packScoresByQuery(t, kVis, w.sD, w.sA);
  for (long q0 = 0; q0 < nq; q0 += mr)
    for (long x0 = 0; x0 < t.dp; x0 += nr) registerTile(t, kVis, w.sA + q0 * tk, kQ + x0 * tk, w.dQ + q0 * t.dp + x0, t.dp, 1.0f, true);
}

// Key tiles first, first + stride, ... (up to kBlock of them) of (row bb, kv head g); dQ added into dqOut.
void keyBlock(const AttnDims& a, const BwdIo& io, const Tiles& t, const Work& w, long bb, long g, long first, long stride, long count,
              float* dqOut) {
  const long d = a.d, tq = t.tq, tk = t.tk, group = a.h / a.hkv, lo = a.lo(bb), kvStride = a.hkv * d, qStride = a.h * d;
  for (long x = 0; x < count * t.dm * tk; x++) w.dKT[x] = w.dVT[x] = 0.0f;
  for (long b = 0; b < count; b++) {
    const long j0 = (first + b * stride) * tk, nk = minL(tk, a.s - j0);
    packPanels(io.k + a.kRow(bb, j0, g), kvStride, nk, tk, d, t.nr, w.zero, w.kS + b * tk * d);
    packPanels(io.v + a.kRow(bb, j0, g), kvStride, nk, tk, d, t.nr, w.zero, w.vP + b * tk * d);
    packColumns(io.k + a.kRow(bb, j0, g), kvStride, nk, tk, d, t.dp, t.nr, w.kQ + b * tk * t.dp);
  }
  const long jMin = first * tk, jEnd = minL(a.s, (first + (count - 1) * stride) * tk + tk);
  for (long hh = g * group; hh < (g + 1) * group && jEnd > lo; hh++) {
    for (long i0 = maxL(0, jMin - a.qOffset[bb]); i0 < a.t; i0 += tq) {
      const long nq = minL(tq, a.t - i0), hiLast = a.hi(bb, i0 + nq - 1);
      if (hiLast < lo) continue;
      packPanels(io.q + a.qRow(bb, i0, hh), qStride, nq, tq, d, t.mr, w.zero, w.qA);
      packPanels(io.dOut + a.qRow(bb, i0, hh), qStride, nq, tq, d, t.mr, w.zero, w.oA);
      packColumns(io.q + a.qRow(bb, i0, hh), qStride, nq, tq, d, t.dm, t.mr, w.qT);
      packColumns(io.dOut + a.qRow(bb, i0, hh), qStride, nq, tq, d, t.dm, t.mr, w.oT);
      for (long q = 0; q < tq; q++) {
        w.lse[q] = q < nq ? io.lse[a.lseAt(bb, hh, i0 + q)] : -INFINITY;
        w.delta[q] = q < nq ? io.delta[a.lseAt(bb, hh, i0 + q)] : 0.0f;
      }
      for (long x = 0; x < tq * t.dp; x++) w.dQ[x] = 0.0f;
      for (long b = 0; b < count; b++) {
        const long j0 = (first + b * stride) * tk, nk = minL(tk, a.s - j0);
        if (j0 <= hiLast && j0 + nk > lo) pair(a, t, w, bb, i0, nq, b, j0, nk);
      }
      for (long q = 0; q < nq; q++) {
        float* __restrict dst = dqOut + a.qRow(bb, i0 + q, hh);
        for (long x = 0; x < d; x++) dst[x] += w.dQ[q * t.dp + x];
      }
    }
  }
  for (long b = 0; b < count; b++) {
    const long j0 = (first + b * stride) * tk, nk = minL(tk, a.s - j0);
    const float* dKT = w.dKT + b * t.dm * tk;
    const float* dVT = w.dVT + b * t.dm * tk;
    for (long j = 0; j < nk; j++) {
      float* dk = io.dk + a.kRow(bb, j0 + j, g);
      float* dv = io.dv + a.kRow(bb, j0 + j, g);
      for (long x = 0; x < d; x++) {
        dk[x] = dKT[x * tk + j];
        dv[x] = dVT[x * tk + j];
      }
    }
  }
}

long gcd(long x, long y) { return y ? gcd(y, x % y) : x; }

}  // namespace

// (q, k, v, qOffset, kvStart, out, lse, dOut, dq, dk, dv, b, t, s, h, hkv, d, scale)
napi_value attentionBackward(napi_env env, napi_callback_info info) {
  Args in(env, info, "attentionBackward");
  const float* out = in.f32(5);
  float* dq = in.f32(8);
  BwdIo io{in.f32(0), in.f32(1), in.f32(2), in.f32(6), in.f32(7), nullptr, in.f32(9), in.f32(10)};
  AttnDims a{in.integer(11), in.integer(12), in.integer(13),       in.integer(14),
             in.integer(15), in.integer(16), static_cast<float>(in.num(17)), in.i32(3), in.i32(4)};
  if (!in.ok) return nullptr;
  const GemmKernels& kk = kernelsFor(isa());
  const long mr = kk.mr, nr = kk.nr;
  if (mr > kMaxPanel || nr > kMaxPanel) std::abort();  // packPanels' row table
  const Tiles t{kk, mr, nr, roundUp(kPackedQTile, mr), roundUp(kBwdKTile, mr / gcd(mr, nr) * nr), roundUp(a.d, nr), roundUp(a.d, mr)};
  const double work = static_cast<double>(a.b) * a.h * a.t * minL(a.s, a.t + 64) * a.d;
  const bool parallel = work > 1.0e5;
  float* delta = scratch(kWork2, 0, static_cast<size_t>(a.b * a.h * a.t));  // (B, H, T) rowsum(dOut * out)
  io.delta = delta;
  parallelFor(
      a.b * a.h,
      [&](long bh, int) {
        const long bb = bh / a.h, hh = bh % a.h;
        for (long i = 0; i < a.t; i++) {
          const float* o = out + a.qRow(bb, i, hh);
          const float* dO = io.dOut + a.qRow(bb, i, hh);
          float s = 0.0f;
          for (long x = 0; x < a.d; x++) s += o[x] * dO[x];
          delta[a.lseAt(bb, hh, i)] = s;
        }
      },
      parallel);
  // Shares per (row, kv head): enough tasks for 4 per thread (so a late thread is covered), each share past the
  // first costing one dq-sized partial buffer (64 M floats at most in all).
  const long kTiles = ceilDiv(a.s, t.tk), groups = a.b * a.hkv, qSize = a.b * a.t * a.h * a.d, group = a.h / a.hkv;
  long shares = parallel ? minL(kTiles, ceilDiv(4L * threads(), groups)) : 1;
  shares = maxL(1, minL(shares, 1 + (64L << 20) / maxL(1, qSize)));
  float* partial = shares > 1 ? scratch(kWork2, 1, static_cast<size_t>((shares - 1) * qSize)) : nullptr;
  const size_t need = workFloats(t, a.d);
  parallelFor(
      groups * shares,
      [&](long task, int tid) {
        const long bg = task / shares, c = task % shares, bb = bg / a.hkv, g = bg % a.hkv;
        float* target = c == 0 ? dq : partial + (c - 1) * qSize;
        for (long i = 0; i < a.t; i++) {
          float* row = target + a.qRow(bb, i, g * group);
          for (long x = 0; x < group * a.d; x++) row[x] = 0.0f;
        }
        const Work w = carve(t, a.d, scratch(kWork, tid, need));
        const long mine = c < kTiles ? ceilDiv(kTiles - c, shares) : 0;  // key tiles c, c + shares, ...
        for (long m = 0; m < mine; m += kBlock) keyBlock(a, io, t, w, bb, g, c + m * shares, shares, minL(kBlock, mine - m), target);
      },
      parallel);
  if (shares > 1)
    parallelRange(qSize, 1L << 16, [&](long lo, long hi) {
      for (long c = 1; c < shares; c++) {
        const float* p = partial + (c - 1) * qSize;
        for (long x = lo; x < hi; x++) dq[x] += p[x];
      }
    });
  return undefined(env);
}

}  // namespace lwz
