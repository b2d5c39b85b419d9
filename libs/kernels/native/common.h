// Shared helpers for the cpu kernels: thread count (LWZ_THREADS; pool.h runs the work), the instruction set
// chosen at run time, and reusable aligned scratch memory. Not a tensor library: kernels take raw pointers
// and sizes that the TypeScript side has already checked.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lwz {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

/** Threads the kernels use (LWZ_THREADS, else the number of cores). */
int threads();
/** Change the thread count at run time (tests; LWZ_THREADS sets it at load). */
void setThreads(int n);
/** The instruction set the dispatching kernels use now (best the CPU has, or what setIsa chose). */
Isa isa();
/** The best instruction set this CPU supports. */
Isa detectedIsa();
/** Choose a lower instruction set (tests use it to exercise the fallbacks); returns false if unsupported. */
bool setIsa(Isa want);
const char* isaName(Isa v);
/** Parse "avx512" | "avx2" | "generic"; false for anything else. */
bool isaFromName(const char* name, Isa* out);
/** Why LWZ_ISA was not applied at load ("" when it was, or was unset). */
const char* isaNote();
void initRuntime();

/**
 * Bytes a call must touch (read + written) before its output is written with streaming (non-temporal) stores:
 * the last-level cache's size (cpuInfo().l3), unless setStreamBytes changed it (tests force both paths with 0
 * and a huge value; a negative value restores the default). Above it the output cannot stay cached for the
 * next op anyway, and a plain store would first read each destination line from memory (write-allocate).
 */
long streamBytes();
void setStreamBytes(long bytes);
/** Whether a call touching `bytes` (read + written) writing an output that does not alias its inputs streams it. */
inline bool streamOutput(double bytes) { return bytes > static_cast<double>(streamBytes()); }
/** Whether the threshold was set (LWZ_STREAM_BYTES or setStreamBytes) rather than left at the LLC's size. */
bool streamBytesSet();
/**
 * streamOutput for kernels that take an exponential for every value they write (softmax and log-softmax, the token
 * log-probs backward): plain stores unless the threshold was set. Their streamed stores measured slower than plain
 * ones, write-allocate reads included: on Zen 5 the log-probs backward 1.05-1.23x and the log-softmax 1.04-1.20x
 * faster with plain stores, on an Intel Xeon the log-softmax 1.2-1.4x (on Zen 4, with the log-softmax of
 * 2026-11-28, streaming was 1.1-1.3x faster: CPUs differ, LWZ_STREAM_BYTES sets it). Streaming stores do not overlap
 * arithmetic on Zen 5 where plain ones do (benchmarks/kernels/store-overlap; benchmarks/README.md "2026-12-02 17:30").
 * The light RMSNorm backward and the embedding gather keep streamOutput.
 */
inline bool streamArithmeticOutput(double bytes) { return streamBytesSet() && streamOutput(bytes); }

/**
 * How long an idle pool worker spins for the next job before it sleeps, in microseconds: 400, or LWZ_SPIN_US
 * (0-100000) read at load. A job posted to a sleeping worker waits for the wake-up (31 us on a Zen 5 VM, against
 * under 1 us for a spinning one); a longer window costs the other cores' time between kernels.
 */
long spinMicros();

constexpr int kMaxThreads = 64;
/** Grow-only 64-byte-aligned scratch buffer per (purpose, thread), reused across calls. */
enum Scratch { kPackB = 0, kPackA = 1, kWork = 2, kWork2 = 3, kKV = 4 };
float* scratch(Scratch kind, int tid, size_t floats);

/** A transparent huge page (x86-64's PMD size). */
constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
/** Read LWZ_HUGEPAGES and the kernel's THP mode (hugepages.cpp); called once by initRuntime. */
void initHugePages();
/** Whether large host memory gets MADV_HUGEPAGE (Linux, THP not `never`, LWZ_HUGEPAGES not 0). */
bool hugePages();
/** The kernel's THP mode: "always", "madvise", "never", or "none" where there is no THP (not Linux). */
const char* thpMode();
/**
 * Mark the whole 2 MiB pages of [p, p + bytes) MADV_HUGEPAGE and drop any pages they hold (they read as zeros
 * after), so their first touch faults in huge pages; for fresh memory only. Returns the bytes marked (0: off or
 * refused).
 */
size_t adviseHuge(void* p, size_t bytes);
/**
 * Uninitialised floats, 64-byte aligned; from 2 MiB on a 2 MiB boundary and marked for huge pages before their
 * first touch (scratch, timing buffers). The layout does not depend on LWZ_HUGEPAGES, so an A/B of the switch
 * compares the pages alone. Free with std::free; aborts when out of memory.
 */
float* allocFloats(size_t floats);

inline long ceilDiv(long a, long b) { return (a + b - 1) / b; }
inline long roundUp(long a, long b) { return ceilDiv(a, b) * b; }
inline long minL(long a, long b) { return a < b ? a : b; }
inline long maxL(long a, long b) { return a > b ? a : b; }

}  // namespace lwz
