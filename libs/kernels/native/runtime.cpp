// Run-time setup: thread count from LWZ_THREADS (default: the CPUs this process may run on), instruction-set detection (__builtin_cpu_supports) with an
// override for tests, and the scratch buffers. Not thread-safe across JS worker threads: one caller at a time.
#include "common.h"

#include <sched.h>

#include <cstdlib>
#include <cstring>

namespace lwz {

static int gThreads = 1;
static Isa gDetected = Isa::generic;
static Isa gIsa = Isa::generic;

void initRuntime() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    gDetected = Isa::avx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    gDetected = Isa::avx2;
  }
  gIsa = gDetected;
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  const char* env = std::getenv("LWZ_THREADS");
  if (env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end && *end == '\0' && v > 0 && v <= 1024) n = static_cast<int>(v);
  }
  gThreads = n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : n);
}

int threads() { return gThreads; }

void setThreads(int n) {
  gThreads = n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : n);
}
Isa isa() { return gIsa; }
Isa detectedIsa() { return gDetected; }

bool setIsa(Isa want) {
  if (static_cast<int>(want) > static_cast<int>(gDetected)) return false;
  gIsa = want;
  return true;
}

const char* isaName(Isa v) {
  switch (v) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "generic";
  }
}

static constexpr int kSlots = 4 * (kMaxThreads + 1);
static float* gBuf[kSlots];
static size_t gCap[kSlots];

float* scratch(Scratch kind, int tid, size_t floats) {
  int slot = static_cast<int>(kind) * (kMaxThreads + 1) + tid;
  if (tid < 0 || tid > kMaxThreads) std::abort();
  if (gCap[slot] < floats) {
    std::free(gBuf[slot]);
    size_t bytes = roundUp(static_cast<long>(floats * sizeof(float)), 64);
    gBuf[slot] = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!gBuf[slot]) std::abort();
    gCap[slot] = floats;
  }
  return gBuf[slot];
}

}  // namespace lwz
