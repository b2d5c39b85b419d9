// The thread pool behind parallelFor. One 64-bit ticket packs (generation, chunk count, next chunk): a
// thread claims chunk i of generation g by compare-and-swap, so a thread holding a stale view can never run
// a chunk of a newer job. Idle workers spin briefly (back-to-back kernels stay warm), then sleep on a
// condition variable. The pool is deliberately never destroyed (no join at process exit).
#include "pool.h"

#include <immintrin.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace lwz {
namespace {

// ticket = affinity (1 bit) | generation (19) | chunk count (22) | next chunk, or claimed-chunk mask (22)
constexpr int kGenBits = 19, kCountBits = 22;
constexpr uint64_t kCountMask = (1ull << kCountBits) - 1, kGenMask = (1ull << kGenBits) - 1;
constexpr uint64_t kAffinityBit = 1ull << 63;

uint64_t pack(bool affinity, uint64_t gen, uint64_t count, uint64_t next) {
  return (affinity ? kAffinityBit : 0) | ((gen & kGenMask) << (2 * kCountBits)) | (count << kCountBits) | next;
}

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> ticket{0};
  std::atomic<uint32_t> gen{0};
  std::atomic<long> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  ChunkFn fn = nullptr;
  void* ctx = nullptr;

  // Claim and run chunks of generation g until none are left (or a newer job replaced it). Affinity jobs
  // (one chunk per thread) claim through a bit mask: each thread takes its own chunk first, then any left.
  void work(uint32_t g, int tid) {
    for (;;) {
      uint64_t t = ticket.load(std::memory_order_acquire);
      if (((t >> (2 * kCountBits)) & kGenMask) != (g & kGenMask)) return;
      const uint64_t count = (t >> kCountBits) & kCountMask, field = t & kCountMask;
      uint64_t chunk;
      if (t & kAffinityBit) {
        const uint64_t all = (1ull << count) - 1, open = ~field & all;
        if (!open) return;
        chunk = static_cast<uint64_t>(tid) < count && (open >> tid & 1) ? tid : __builtin_ctzll(open);
        if (!ticket.compare_exchange_weak(t, t | (1ull << chunk), std::memory_order_acq_rel)) continue;
      } else {
        if (field >= count) return;
        chunk = field;
        if (!ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
      }
      fn(ctx, static_cast<long>(chunk), tid);  // fn/ctx are stable until this chunk is counted done
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void loop(int tid) {
    uint32_t seen = gen.load();
    for (;;) {
      uint32_t g = seen;
      for (int spin = 0; spin < 20000 && g == seen && !stop.load(std::memory_order_relaxed); spin++) {
        _mm_pause();
        g = gen.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu);
        sleepers.fetch_add(1);
        cv.wait(lock, [&] { return stop.load() || gen.load() != seen; });
        sleepers.fetch_sub(1);
        g = gen.load();
      }
      if (stop.load()) return;
      seen = g;
      work(g, tid);
    }
  }
};

Pool* gPool = nullptr;
int gPoolThreads = 0;

Pool* pool(int nt) {
  if (gPool && gPoolThreads == nt) return gPool;
  if (gPool) {  // thread count changed (tests): retire the old workers
    gPool->stop.store(true);
    {
      std::lock_guard<std::mutex> lock(gPool->mu);
      gPool->cv.notify_all();
    }
    for (auto& w : gPool->workers) w.join();
    delete gPool;
  }
  gPool = new Pool();
  gPoolThreads = nt;
  for (int t = 1; t < nt; t++) gPool->workers.emplace_back([p = gPool, t] { p->loop(t); });
  return gPool;
}

}  // namespace

void parallelRun(long chunks, ChunkFn fn, void* ctx, bool parallel, bool affinity) {
  const int nt = threads();
  if (chunks <= 0) return;
  if (!parallel || nt == 1 || chunks == 1) {
    for (long i = 0; i < chunks; i++) fn(ctx, i, 0);
    return;
  }
  Pool* p = pool(nt);
  const uint32_t g = p->gen.load() + 1;
  p->fn = fn;
  p->ctx = ctx;
  p->done.store(0);
  p->ticket.store(pack(affinity && chunks <= kCountBits, g, static_cast<uint64_t>(chunks), 0), std::memory_order_release);
  p->gen.store(g);
  if (p->sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(p->mu);
    p->cv.notify_all();
  }
  p->work(g, 0);
  for (long spin = 0; p->done.load(std::memory_order_acquire) < chunks; spin++) {
    if (spin < 4096) _mm_pause();
    else std::this_thread::yield();
  }
}

}  // namespace lwz
