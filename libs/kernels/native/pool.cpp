// The thread pool behind parallelFor. One 64-bit ticket packs (generation, chunk count, next chunk): a
// thread claims chunk i of generation g by compare-and-swap, so a thread holding a stale view can never run
// a chunk of a newer job. Idle workers spin for a fixed time (spinMicros, 400 us unless LWZ_SPIN_US says
// otherwise: back-to-back kernels stay warm), then sleep on a condition variable. The pool is deliberately
// never destroyed (no join at process exit).
#include "pool.h"

#include <immintrin.h>
#include <sched.h>

#include <atomic>
#include <chrono>
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
static_assert(kAffinityChunks <= kCountBits, "an affinity job's claimed-chunk mask must fit its field");

uint64_t pack(bool affinity, uint64_t gen, uint64_t count, uint64_t next) {
  return (affinity ? kAffinityBit : 0) | ((gen & kGenMask) << (2 * kCountBits)) | (count << kCountBits) | next;
}

struct Pool {
  explicit Pool(int threads) : nt(static_cast<uint64_t>(threads)) {}
  const uint64_t nt;  // threads running jobs: the workers and the caller
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> ticket{0};
  std::atomic<uint32_t> gen{0};
  std::atomic<long> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::atomic<int> callerCpu{-1};  // where the caller last posted a job
  ChunkFn fn = nullptr;
  void* ctx = nullptr;

  // Claim and run chunks of generation g until none are left (or a newer job replaced it). Affinity jobs
  // claim through a bit mask: thread t owns the contiguous chunks [t*count/nt, (t+1)*count/nt) and takes the
  // first open one of those; with none left it takes the last open chunk of all (the end of a late or
  // descheduled thread's range), so the two meet in the middle of that range.
  void work(uint32_t g, int tid) {
    for (;;) {
      uint64_t t = ticket.load(std::memory_order_acquire);
      if (((t >> (2 * kCountBits)) & kGenMask) != (g & kGenMask)) return;
      const uint64_t count = (t >> kCountBits) & kCountMask, field = t & kCountMask;
      uint64_t chunk;
      if (t & kAffinityBit) {
        const uint64_t all = (1ull << count) - 1, open = ~field & all;
        if (!open) return;
        const uint64_t lo = tid * count / nt, hi = (tid + 1) * count / nt;
        const uint64_t mine = open & ((1ull << hi) - 1) & ~((1ull << lo) - 1);
        chunk = mine ? __builtin_ctzll(mine) : 63 - __builtin_clzll(open);
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

  // A worker on the CPU of the thread that posts the jobs (the caller runs chunks too) moves itself to another
  // CPU it may run on. The scheduler can leave both on one core while the other runs an idle-priority task:
  // measured on a 2-core VM, whole runs of a 2-thread GEMV at one thread's speed, the two threads time-sliced
  // on CPU 1 (issue #15, the bimodal 1x4096x4096 Bt). Clearing that CPU from the affinity mask migrates the
  // thread at once; restoring the mask right after lets the scheduler place it freely again.
  void leaveCallerCpu() {
    const int cpu = callerCpu.load(std::memory_order_relaxed);
    if (cpu < 0 || sched_getcpu() != cpu) return;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2) return;
    cpu_set_t others = allowed;
    CPU_CLR(cpu, &others);
    if (sched_setaffinity(0, sizeof others, &others) == 0) sched_setaffinity(0, sizeof allowed, &allowed);
  }

  void loop(int tid) {
    // The window is a time, not a count of `pause`s: 20000 of them took 355-395 us on a Zen 5 VM (about 65 cycles
    // each), and Intel documents ~140 cycles for a pause since Skylake and ~10 before it, so a count made the window
    // about 14x longer on one x86 than another.
    using Clock = std::chrono::steady_clock;
    const auto window = std::chrono::microseconds(spinMicros());
    uint32_t seen = gen.load();
    for (;;) {
      uint32_t g = seen;
      const auto until = Clock::now() + window;
      for (long spin = 1; g == seen && !stop.load(std::memory_order_relaxed); spin++) {
        _mm_pause();
        g = gen.load(std::memory_order_acquire);
        if ((spin & 63) == 0 && Clock::now() >= until) break;
        if ((spin & 1023) == 0) leaveCallerCpu();  // a spin there takes the caller's time
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
      leaveCallerCpu();
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
  gPool = new Pool(nt);
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
  p->callerCpu.store(sched_getcpu(), std::memory_order_relaxed);
  p->done.store(0);
  p->ticket.store(pack(affinity && chunks <= kAffinityChunks, g, static_cast<uint64_t>(chunks), 0), std::memory_order_release);
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
