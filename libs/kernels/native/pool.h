// A small persistent thread pool (threads() - 1 workers plus the calling thread). Work is a count of chunks
// claimed dynamically from one atomic ticket, so a worker that wakes late (a busy shared machine) never
// holds up the caller: whoever is running takes the remaining chunks. Not a task graph, not nestable.
#pragma once
#include <type_traits>

#include "common.h"

namespace lwz {

using ChunkFn = void (*)(void* ctx, long chunk, int tid);

/**
 * Run fn(ctx, i, tid) for every i < chunks; tid < threads() identifies the running thread (scratch slot).
 * parallel = false runs every chunk on the calling thread (work too small to be worth waking workers).
 * affinity = true (chunks <= kAffinityChunks): thread t runs the contiguous chunks [t*chunks/threads(),
 * (t+1)*chunks/threads()) in order when it is awake in time, so repeated calls over the same data find their
 * part in that core's cache; a thread done with its own takes the last open chunk of another's range, so a
 * late or descheduled thread costs at most the chunk it is running. Beyond kAffinityChunks: plain claiming.
 */
void parallelRun(long chunks, ChunkFn fn, void* ctx, bool parallel, bool affinity);

/** Most chunks an affinity job can have (they are claimed through a bit mask). */
constexpr long kAffinityChunks = 22;

template <class F>
void parallelFor(long chunks, F&& f, bool parallel = true, bool affinity = false) {
  using Fn = typename std::remove_reference<F>::type;
  parallelRun(
      chunks, [](void* c, long i, int tid) { (*static_cast<Fn*>(c))(i, tid); },
      const_cast<void*>(static_cast<const void*>(&f)), parallel, affinity);
}

}  // namespace lwz

namespace lwz {

/**
 * The chunk size for a kernel that streams [0, n) through memory once: at least `grain`, and large enough that each
 * thread gets about 8 chunks. Each thread then reads long contiguous runs, while a late thread still leaves chunks
 * to share. On Zen 5 (2 threads, huge pages) a copy of 67 MB in chunks of 256 KiB, alternating between the threads,
 * ran at 0.8x of the same copy in 8 chunks per thread, and RoPE at 0.7x (benchmarks/README.md, "2026-11-30 06:16"):
 * likely the hardware prefetchers running on past each chunk's end into lines the other thread reads (no PMU there
 * to tell).
 */
inline long streamGrain(long n, long grain) { return maxL(grain, ceilDiv(n, 8L * threads())); }

/** f(lo, hi) over [0, n) in chunks of `grain`; single-threaded when n is at most two chunks. */
template <class F>
void parallelRange(long n, long grain, F&& f) {
  if (n <= 0) return;
  parallelFor(
      ceilDiv(n, grain), [&](long c, int) { f(c * grain, minL(n, (c + 1) * grain)); }, n > 2 * grain);
}

}  // namespace lwz
