// The decode path of attentionForward (T < 16 new queries per row over a long KV cache, the rollout's steady
// state). The G = H / Hkv query heads sharing a kv head, times the T queries, are scored together, so each
// key and value row is read from memory ONCE per step instead of once per query head. Long caches are split
// into key ranges of whole chunks (flash-decoding; 256 keys, for the AVX2 body as many as fit half the L2 twice,
// avx2Chunk) so a batch of one row still fills every thread; each range keeps its own online-softmax state (max
// m, sum l, unnormalised output) and the ranges are merged at the end. A thread walks its key range chunk by
// chunk: in the (B, S, Hkv, D) layout it runs every kv head over a chunk before the next (the heads' rows
// interleave in memory, so each chunk comes from memory once); in the head-major cache (B, Hkv, S, D) a thread
// takes one (row, kv head, key range) and streams that head's contiguous K and V rows; the AVX-512 body requests the thread's next chunk while it computes this one (so does
// the AVX2 body). Keys are read in place, never copied.
// The per-range body: AVX-512 or AVX2 intrinsics for the usual head dims (attention_decode_avx512.cpp,
// attention_decode_avx2.cpp), else the portable loops below (compiled for AVX-512, AVX2 and baseline).
#include <cmath>

#include "attention.h"
#include "cpuinfo.h"
#include "kernels.h"
#include "pool.h"

namespace lwz {
namespace {

constexpr long kBlock = 32;        // keys scored per online-softmax update
constexpr long kMinSplit = 256;    // fewest keys one range of a split cache gets
constexpr long kChunk = kDecodeSpan;  // keys per chunk: all kv heads' rows of a chunk stay in L2

/** dot(a, b) over d floats: 16 independent partial sums so the loop vectorises without reassociation. */
[[gnu::always_inline]] inline float dot(const float* a, const float* b, long d) {
  float acc[16] = {0.0f};
  long x = 0;
  for (; x + 16 <= d; x += 16)
    for (int u = 0; u < 16; u++) acc[u] += a[x + u] * b[x + u];
  float tail = 0.0f;
  for (; x < d; x++) tail += a[x] * b[x];
  for (int w = 8; w > 0; w /= 2)
    for (int u = 0; u < w; u++) acc[u] += acc[u + w];
  return acc[0] + tail;
}

/**
 * Keys per chunk of the AVX2 body: the largest power of two (32 .. kChunk) whose current and next chunk (every kv
 * head's K and V rows, the one being read and the one requested meanwhile) take at most half the L2. At kChunk
 * both filled Zen 3's 512 KiB L2 (Qwen2.5-0.5B's 2 kv heads x 64) and the requested lines evicted the ones still
 * to be read (branch attn3, benchmarks/README.md: 24 layers' 1k caches, one thread in a standalone harness 0.46-0.49x
 * -> 0.58-0.63x of a read of the same bytes; two threads in process 1k 0.17-0.32x -> 0.29-0.35x, 4k 0.29-0.30x
 * -> 0.30-0.41x, under load). The AVX-512 body keeps kChunk (its Zen 4 L2 holds 1 MiB).
 */
long avx2Chunk(const AttnDims& a) {
  const long perKey = 2 * a.hkv * a.d * static_cast<long>(sizeof(float));
  long c = kChunk;
  while (c > 32 && 2 * c * perKey > cpuInfo().l2.bytes / 2) c /= 2;
  return c;
}

struct Prefetch {
  long at, len;  // floats of K (and V) from offset `at`
};

/**
 * Kv head g's share of the keys [p0, p0 + n) of row pb that a thread reads next (requested by the vector bodies):
 * with one kv head's keys contiguous (the head-major cache, or Hkv = 1) that head's own block; with the heads'
 * rows interleaved (B, S, Hkv, D) the g-th of Hkv slices of the one block all heads share, from a line start.
 */
Prefetch prefetchShare(const AttnDims& a, long pb, long p0, long n, long g) {
  if (a.ks == a.d) return Prefetch{a.kRow(pb, p0, g), n * a.d};
  const long len = n * a.ks, lo = len * g / a.hkv & ~15L, hi = len * (g + 1) / a.hkv;
  return Prefetch{a.kRow(pb, p0, 0) + lo, hi - lo};
}

struct Task {
  long bb, g, j0, j1;  // row, kv head, keys [j0, j1)
  float* o;            // (R, D) unnormalised output of this range
  float* m;            // (R,) running max
  float* l;            // (R,) running sum
};

// Query row r = i * G + u is query i of head g * G + u. Scores, softmax and P V for keys [j0, j1), continuing
// the running state (o, m, l) unless `fresh`.
LWZ_CLONES
void decodeRange(const AttnDims& a, const FwdIo& io, const Task& tk, float* work, bool fresh) {
  const long d = a.d, G = a.h / a.hkv, R = G * a.t;
  float* qs = work;         // (R, D) scaled queries
  float* sc = qs + R * d;   // (R, kBlock) scores, then probabilities
  for (long r = 0; r < R; r++) {
    const float* src = io.q + a.qRow(tk.bb, r / G, tk.g * G + r % G);
    for (long x = 0; x < d; x++) qs[r * d + x] = src[x] * a.scale;
    if (!fresh) continue;
    for (long x = 0; x < d; x++) tk.o[r * d + x] = 0.0f;
    tk.m[r] = -INFINITY;
    tk.l[r] = 0.0f;
  }
  for (long jb = tk.j0; jb < tk.j1; jb += kBlock) {
    const long nb = minL(kBlock, tk.j1 - jb);
    for (long jj = 0; jj < nb; jj++) {
      const float* kr = io.k + a.kRow(tk.bb, jb + jj, tk.g);
      for (long r = 0; r < R; r++) sc[r * kBlock + jj] = dot(qs + r * d, kr, d);
    }
    for (long r = 0; r < R; r++) {
      const long valid = minL(nb, a.hi(tk.bb, r / G) + 1 - jb);  // this query sees keys jb .. jb + valid - 1
      float* s = sc + r * kBlock;
      for (long jj = maxL(valid, 0); jj < nb; jj++) s[jj] = 0.0f;
      if (valid <= 0) continue;
      float mx = tk.m[r];
      for (long jj = 0; jj < valid; jj++) mx = s[jj] > mx ? s[jj] : mx;
      const float corr = fastExp(tk.m[r] - mx);
      float sum = 0.0f;
      for (long jj = 0; jj < valid; jj++) {
        s[jj] = fastExp(s[jj] - mx);
        sum += s[jj];
      }
      tk.l[r] = tk.l[r] * corr + sum;
      tk.m[r] = mx;
      if (corr != 1.0f)
        for (long x = 0; x < d; x++) tk.o[r * d + x] *= corr;
    }
    for (long jj = 0; jj < nb; jj++) {
      const float* vr = io.v + a.kRow(tk.bb, jb + jj, tk.g);
      for (long r = 0; r < R; r++) {
        const float p = sc[r * kBlock + jj];
        float* orow = tk.o + r * d;
        for (long x = 0; x < d; x++) orow[x] += p * vr[x];
      }
    }
  }
}

}  // namespace

void decodeForward(const AttnDims& a, const FwdIo& io) {
  const long d = a.d, G = a.h / a.hkv, R = G * a.t, groups = a.b * a.hkv;
  long visible = 1;  // the longest visible key range of any row
  for (long bb = 0; bb < a.b; bb++) visible = maxL(visible, a.hi(bb, a.t - 1) + 1 - a.lo(bb));
  // kv heads one thread walks together: all of them where their rows interleave ((B, S, Hkv, D)), so each chunk
  // comes from memory once; one where each head's keys are contiguous (the head-major cache), so a thread streams
  // one head's K and V and the (row, head) pairs spread over the threads
  const long heads = a.ks == a.d ? 1 : a.hkv, blocks = a.hkv / heads;
  // work units per thread: two over interleaved rows (ranges to share when a thread wakes late), one over contiguous
  // heads: each thread then streams as long a range as can be (at batch 1 with 2 kv heads on 2 threads, a whole
  // head), with fewer range starts whose first chunk no one requested ahead. Zen 3, 2 threads, batch 1, Qwen2.5-0.5B
  // shapes: 1k 1.10-1.25x faster, 4k 1.0-1.07x, 16k even (benchmarks/README.md, attn5)
  const long perThread = heads == 1 ? 1 : 2;
  const long want = ceilDiv(perThread * threads(), a.b * blocks);
  const long splits = maxL(1, minL(want, visible / kMinSplit));
  const long tasks = groups * splits;
  const long stride = R * (d + 2);  // one range's o, m, l
  float* part = scratch(kWork2, 0, static_cast<size_t>(tasks * stride));
  const Isa body = isa();  // LWZ_ISA=generic keeps the portable loops (still their AVX2 / AVX-512 clones)
  const long chunk = body == Isa::avx2 ? avx2Chunk(a) : kChunk;
  const long chunks = ceilDiv(visible, chunk);  // ranges are whole chunks (but a row's last), as even as can be
  const auto startOf = [&](long s) { return s * chunks / splits * chunk; };
  auto taskOf = [&](long t) {
    const long grp = t / splits, s = t % splits, bb = grp / a.hkv;
    const long lo = a.lo(bb), hi = a.hi(bb, a.t - 1) + 1;
    float* base = part + t * stride;
    return Task{bb, grp % a.hkv, minL(hi, lo + startOf(s)), minL(hi, lo + startOf(s + 1)), base, base + R * d, base + R * d + R};
  };
  const double work = static_cast<double>(a.b) * a.h * a.t * visible * d;
  // One thread takes (row, key range) and walks it in chunks, all kv heads per chunk when the heads' rows are
  // interleaved in memory ((B, S, Hkv, D): each chunk of the cache is then read from memory once, not once per
  // head), or (row, kv head, key range) over a head-major cache: on Zen 3 one head's two streams per thread, with
  // twice the ranges to share, read 4k/16k caches 1.1-1.2x faster than both heads' four (benchmarks/README.md, kvhead).
  const long units = a.b * blocks * splits;  // (row, block of `heads` kv heads, key range)
  const auto firstTask = [&](long u) { return taskOf(u / splits * heads * splits + u % splits); };
  parallelFor(
      units,
      [&](long t, int tid) {
        const long s = t % splits;
        float* work = scratch(kWork, tid, static_cast<size_t>(R * (d + maxL(kBlock, kChunk) + 1)));  // either body's
        const Task first = firstTask(t);
        const long bb = first.bb, g0 = first.g;
        // what this thread reads next (its kv heads' rows), requested by the vector bodies while they work: the
        // range's next chunk, or after its last the first chunk of the range this thread likely takes next
        // (tasks are claimed in order, so task t + threads()); a wrong guess costs a few useless requests
        const long nt = t + threads();
        const Task after = nt < units ? firstTask(nt) : Task{0, 0, 0, 0, nullptr, nullptr, nullptr};
        for (long c0 = first.j0; c0 < first.j1 || c0 == first.j0; c0 += chunk) {
          const bool last = c0 + chunk >= first.j1;
          const long pb = last ? after.bb : bb, p0 = last ? after.j0 : c0 + chunk, p1 = minL(p0 + chunk, last ? after.j1 : first.j1);
          for (long g = g0; g < g0 + heads; g++) {
            const Prefetch pf = prefetchShare(a, pb, p0, maxL(0, p1 - p0), last ? after.g + g - g0 : g);
            const long pfAt = pf.at, pfLen = pf.len;
            Task tk = taskOf((bb * a.hkv + g) * splits + s);
            tk.j0 = c0;
            tk.j1 = minL(tk.j1, c0 + chunk);
            const bool fresh = c0 == first.j0;
            bool done = false;
            if (body == Isa::avx512) done = decodeRangeAvx512(a, io, tk.bb, tk.g, tk.j0, tk.j1, pfAt, pfLen, tk.o, tk.m, tk.l, work, fresh);
            if (body == Isa::avx2) done = decodeRangeAvx2(a, io, tk.bb, tk.g, tk.j0, tk.j1, pfAt, pfLen, tk.o, tk.m, tk.l, work, fresh);
            if (!done) decodeRange(a, io, tk, work, fresh);
          }
          if (first.j1 <= first.j0) break;
        }
      },
      work > 2.0e5);
  // merge the ranges of each (row, kv head): out = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s
  for (long grp = 0; grp < groups; grp++) {
    const long bb = grp / a.hkv, g = grp % a.hkv;
    for (long r = 0; r < R; r++) {
      const long i = r / G, hh = g * G + r % G;
      float M = -INFINITY;
      for (long s = 0; s < splits; s++) M = std::fmax(M, taskOf(grp * splits + s).m[r]);
      float* dst = io.out + a.qRow(bb, i, hh);
      for (long x = 0; x < d; x++) dst[x] = 0.0f;
      float L = 0.0f;
      if (M != -INFINITY) {
        for (long s = 0; s < splits; s++) {
          const Task tk = taskOf(grp * splits + s);
          const float w = tk.m[r] == -INFINITY ? 0.0f : std::exp(tk.m[r] - M);
          L += w * tk.l[r];
          for (long x = 0; x < d; x++) dst[x] += w * tk.o[r * d + x];
        }
      }
      const float inv = L > 0.0f ? 1.0f / L : 0.0f;
      for (long x = 0; x < d; x++) dst[x] *= inv;
      io.lse[a.lseAt(bb, hh, i)] = !(L <= 0.0f) ? M + std::log(L) : -INFINITY;  // a NaN L (a NaN key) gives NaN, as the ref
    }
  }
}

}  // namespace lwz
