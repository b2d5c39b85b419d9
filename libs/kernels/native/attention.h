// Shared pieces of the flash-style attention kernels (attention_fwd.cpp, attention_bwd.cpp): dimensions,
// strides, the visible key range of a query, and one score tile computed from a transposed key tile.
// Layouts: q/out/dOut (B, T, H, D), lse (B, H, T); query head h reads kv head h / (H/Hkv). k/v are (B, S, Hkv, D)
// ('bshd', training) or head-major (B, Hkv, S, D) ('bhsd', the KV cache: one kv head's keys contiguous); the
// strides in AttnDims (setKvLayout) are the only place that knows which, every path indexes keys through kRow / ks.
#pragma once
#include <cmath>
#include <cstdint>

#include "common.h"
#include "vecmath.h"

namespace lwz {

struct AttnDims {
  long b, t, s, h, hkv, d;
  float scale;
  const int32_t* qOffset;  // (B,)
  const int32_t* kvStart;  // (B,)
  long ks = 0, hs = 0, bs = 0;  // k/v strides in floats: next key, next kv head, next row (setKvLayout)

  /** Strides of k/v: (B, S, Hkv, D) or, headMajor, (B, Hkv, S, D). Call once after the dimensions are set. */
  void setKvLayout(bool headMajor) {
    ks = headMajor ? d : hkv * d;
    hs = headMajor ? s * d : d;
    bs = s * hkv * d;
  }
  long qRow(long bb, long i, long hh) const { return ((bb * t + i) * h + hh) * d; }
  long kRow(long bb, long j, long g) const { return bb * bs + j * ks + g * hs; }
  long lseAt(long bb, long hh, long i) const { return (bb * h + hh) * t + i; }
  /** First visible key of row bb (0 if kvStart is negative). */
  long lo(long bb) const { return maxL(0, kvStart[bb]); }
  /** Last visible key of query i in row bb (may be < lo: nothing visible). */
  long hi(long bb, long i) const { return minL(s - 1, static_cast<long>(qOffset[bb]) + i); }
};

constexpr long kQTile = 32;        // queries per tile (row-at-a-time paths)
constexpr long kKTile = 64;        // keys per tile
constexpr long kPackedQTile = 48;  // queries per tile on the packed path: a multiple of every micro-kernel's MR

struct FwdIo {
  const float *q, *k, *v;
  float *out, *lse;
};

constexpr long kDecodeMaxT = 16;   // forward calls with fewer queries per row take the decode path
constexpr long kDecodeSpan = 256;  // keys per chunk of the decode path (one softmax update in the AVX-512 body)

/** Forward for T < kDecodeMaxT (decode steps): each kv head read once for all its query heads, long caches split. */
void decodeForward(const AttnDims& a, const FwdIo& io);
/**
 * AVX-512 decode over keys [j0, j1) of (row bb, kv head g): o (G*T, D) unnormalised output, m and l (G*T,)
 * running max and sum, continued unless `fresh`; work holds G*T*(D + kDecodeSpan + 1) floats. Meanwhile it requests
 * the K and V floats [pfAt, pfAt + pfLen): this head's share (attention_decode.cpp, prefetchShare) of what its
 * thread reads next.
 * False (nothing done) for head dims it has no body for (it has 16, 32, 64, 96, 128).
 */
bool decodeRangeAvx512(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m,
                       float* l, float* work, bool fresh);
/** The same contract in AVX2+FMA (attention_decode_avx2.cpp), with bodies for head dims 64 and 128. */
bool decodeRangeAvx2(const AttnDims& a, const FwdIo& io, long bb, long g, long j0, long j1, long pfAt, long pfLen, float* o, float* m,
                     float* l, float* work, bool fresh);

/**
 * K or V of every (row, kv head) packed once per call into GEMM B panels, tile by tile (kKTile keys from key 0),
 * shared by all query heads and query tiles: `cols` layout (depth D, one column per key: the B of Q K^T),
 * `depth` layout (depth = keys, D columns padded to 32: the B of P V or dS K). Only the tiles holding keys some
 * query of the row sees are packed, and their other keys are zeros (so a NaN there cannot reach a visible row).
 * attention_pack.cpp.
 */
struct KvPanels {
  float* data;
  long tiles;  // key tiles per (row, kv head)
  long dp;     // D rounded up to 32
  const float* tile(long bb, long g, long hkv, long t) const { return data + ((bb * hkv + g) * tiles + t) * kKTile * dp; }
};
enum class KvLayout { cols, depth };
/** Pack src (k or v in a's layout) into `slot` (a kKV scratch slot) in the given layout; runs on the thread pool. */
KvPanels packKv(const AttnDims& a, const float* src, KvLayout layout, int slot, bool parallel);

struct BwdIo {
  const float *q, *k, *v, *out, *lse, *dOut;
  float *dq, *dk, *dv;
  float* delta;  // (B, H, T) rowsum(dOut * out)
};

/** Scratch floats backwardGroupPacked needs. */
size_t packedBackwardScratch(long d);
/**
 * Backward for one (row bb, kv head g): dk, dv of that kv head and dq of its query heads, all written, in
 * one pass over (query tile, key tile) pairs with the GEMM micro-kernels (attention_bwd_packed.cpp).
 */
void backwardGroupPacked(const AttnDims& a, const BwdIo& io, const KvPanels& kCols, const KvPanels& vCols,
                         const KvPanels& kDepth, long bb, long g, float* work);

/** Scratch floats forwardTilePacked needs. */
size_t packedForwardScratch(long d);
/** Forward for queries i0 .. i0 + kPackedQTile - 1 of (row bb, head hh) with the GEMM micro-kernels. */
void forwardTilePacked(const AttnDims& a, const FwdIo& io, const KvPanels& kCols, const KvPanels& vDepth, long bb, long hh,
                       long i0, float* work);

/** kt (D, nk) = transpose of nk keys of k (a's layout) starting at key j0 of (row bb, kv head g). */
[[gnu::always_inline]] inline void transposeKeys(const AttnDims& a, const float* k, long bb, long g, long j0, long nk, float* kt) {
  for (long j = 0; j < nk; j++) {
    const float* src = k + a.kRow(bb, j0 + j, g);
    for (long x = 0; x < a.d; x++) kt[x * kKTile + j] = src[x];
  }
}

/** s[j] = sum_x q[x] * kt[x, j] for j < kKTile (kt zero-padded or ignored past nk). */
[[gnu::always_inline]] inline void scoreRow(const float* q, const float* kt, long d, float* s) {
  for (long j = 0; j < kKTile; j++) s[j] = 0.0f;
  for (long x = 0; x < d; x++) {
    const float qx = q[x];
    const float* row = kt + x * kKTile;
    for (long j = 0; j < kKTile; j++) s[j] += qx * row[j];
  }
}

}  // namespace lwz
