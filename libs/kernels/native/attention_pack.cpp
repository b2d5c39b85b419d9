// K and V packed once per attention call into GEMM B panels (attention.h, KvPanels), so the packed forward
// and backward tasks read panels instead of re-packing the same keys for every query head and query tile.
#include "attention.h"
#include "gemm.h"
#include "pool.h"

namespace lwz {

KvPanels packKv(const AttnDims& a, const float* src, KvLayout layout, int slot, bool parallel) {
  const int nr = kernelsFor(isa()).nr;
  KvPanels p;
  p.tiles = ceilDiv(a.s, kKTile);
  p.dp = roundUp(a.d, 32);
  p.data = scratch(kKV, slot, static_cast<size_t>(a.b * a.hkv * p.tiles * kKTile * p.dp));
  const long ld = a.ks;  // floats between consecutive keys of one kv head
  parallelFor(
      a.b * a.hkv * p.tiles,
      [&](long task, int) {
        const long bb = task / (a.hkv * p.tiles), g = task / p.tiles % a.hkv, t = task % p.tiles;
        const long j0 = t * kKTile, nk = minL(kKTile, a.s - j0);
        float* dst = p.data + (task * kKTile * p.dp);
        const float* base = src + a.kRow(bb, j0, g);
        if (layout == KvLayout::cols) packB(base, 1, ld, nk, 0, kKTile, 0, a.d, nr, dst);  // (D, KT): key j is column j
        else packB(base, ld, 1, a.d, 0, p.dp, 0, nk, nr, dst);                            // (nk, Dp): key j is depth j
      },
      parallel);
  return p;
}

}  // namespace lwz
