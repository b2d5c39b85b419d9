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
        // the keys some query of this row sees: [lo, the last query's hi]; the forward and the backward walk only
        // the tiles from lo's to their queries' hi, so the others (left padding, the cache's room past the row's
        // length) are not packed at all
        const long first = a.lo(bb), last = a.hi(bb, a.t - 1);
        if (j0 + nk <= first || j0 > last) return;
        float* dst = p.data + (task * kKTile * p.dp);
        const float* base = src + a.kRow(bb, j0, g);
        if (layout == KvLayout::cols) packB(base, 1, ld, nk, 0, kKTile, 0, a.d, nr, dst);  // (D, KT): key j is column j
        else packB(base, ld, 1, a.d, 0, p.dp, 0, nk, nr, dst);                            // (nk, Dp): key j is depth j
        // keys of this tile no query of the row sees get zeros: their probability is 0, but 0 x NaN is NaN, so a
        // padding row or an unwritten cache slot holding NaN or inf would otherwise poison every visible row (P V,
        // dO V^T, dS K); with finite values the results are bit for bit the same (0 x v and 0 x 0 add nothing)
        for (long j = 0; j < nk; j++) {
          if (j0 + j >= first && j0 + j <= last) continue;
          if (layout == KvLayout::cols)
            for (long x = 0; x < a.d; x++) dst[j / nr * nr * a.d + x * nr + j % nr] = 0.0f;
          else
            for (long x = 0; x < a.d; x++) dst[x / nr * nr * nk + j * nr + x % nr] = 0.0f;
        }
      },
      parallel);
  return p;
}

}  // namespace lwz
