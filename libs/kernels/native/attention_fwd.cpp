// attentionForward: causal GQA with KV prefix and left padding, flash-style: an online softmax (running max m,
// running sum l, rescaled accumulator) over tiles of keys, so memory is O(tile * D) per thread and never a
// (T, S) score matrix. Prefill (T >= 16): one task per (row, query head, 48-query tile) on the GEMM
// micro-kernels (attention_fwd_packed.cpp); decode (T < 16): attention_decode.cpp.
#include "attention.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace lwz {

// (q, k, v, qOffset, kvStart, out, lse, b, t, s, h, hkv, d, scale, headMajor): k/v (B, S, Hkv, D) or, headMajor, (B, Hkv, S, D)
napi_value attentionForward(napi_env env, napi_callback_info info) {
  Args in(env, info, "attentionForward");
  FwdIo io{in.f32(0), in.f32(1), in.f32(2), in.f32(5), in.f32(6)};
  AttnDims a{in.integer(7), in.integer(8),  in.integer(9),       in.integer(10),
             in.integer(11), in.integer(12), static_cast<float>(in.num(13)), in.i32(3), in.i32(4)};
  a.setKvLayout(in.flag(14));
  if (!in.ok) return nullptr;
  // Decode-sized query blocks (a few new tokens per row over a KV cache) read each kv head once for all its
  // query heads (attention_decode.cpp); prefill-sized ones go through the packed micro-kernels.
  if (a.t < kDecodeMaxT) {
    decodeForward(a, io);
    return undefined(env);
  }
  const long qTiles = ceilDiv(a.t, kPackedQTile);
  const size_t need = packedForwardScratch(a.d);
  const double work = static_cast<double>(a.b) * a.h * a.t * minL(a.s, a.t + 64) * a.d;
  // K and V of every (row, kv head) packed once into GEMM B panels, shared by its query heads and tiles.
  const KvPanels kCols = packKv(a, io.k, KvLayout::cols, 0, work > 2.0e5);
  const KvPanels vDepth = packKv(a, io.v, KvLayout::depth, 1, work > 2.0e5);
  parallelFor(
      a.b * a.h * qTiles,
      [&](long task, int tid) {
        const long bb = task / (a.h * qTiles), hh = task / qTiles % a.h, it = task % qTiles;
        forwardTilePacked(a, io, kCols, vDepth, bb, hh, it * kPackedQTile, scratch(kWork, tid, need));
      },
      work > 2.0e5);
  return undefined(env);
}

}  // namespace lwz
