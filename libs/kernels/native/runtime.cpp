// Run-time setup: thread count from LWZ_THREADS (default: the CPUs this process may run on), instruction-set
// detection (__builtin_cpu_supports) with LWZ_ISA=avx512|avx2|generic forcing a lower path at load (and setIsa
// for tests), cache detection for the GEMM blocking, the streaming-store threshold (LWZ_STREAM_BYTES, e.g. 32M;
// default the last-level cache size), the pool's spin window (LWZ_SPIN_US), and the scratch buffers. Not thread-safe across JS worker
// threads: one caller at a time.
#include "common.h"
#include "cpuinfo.h"

#include <sched.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lwz {

static int gThreads = 1;
static Isa gDetected = Isa::generic;
static Isa gIsa = Isa::generic;
static char gIsaNote[320];
static long gStreamBytes = -1;  // < 0: the last-level cache size

// One more reason a variable was not applied, after those already noted ("; " between them).
__attribute__((format(printf, 1, 2))) static void addNote(const char* fmt, ...) {
  const size_t used = std::strlen(gIsaNote);
  if (used) std::snprintf(gIsaNote + used, sizeof gIsaNote - used, "; ");
  const size_t at = std::strlen(gIsaNote);
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(gIsaNote + at, sizeof gIsaNote - at, fmt, args);
  va_end(args);
}

// `text` as a whole number in [lo, hi], nothing after it.
static bool wholeNumber(const char* text, long lo, long hi, long* out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// LWZ_STREAM_BYTES=N[K|M|G]: outputs of memory-bound kernels larger than this are written with streaming stores
// (common.h streamOutput). A value that is not a size keeps the default and leaves a note (printed with LWZ_ISA's).
static void applyStreamEnv() {
  const char* env = std::getenv("LWZ_STREAM_BYTES");
  if (!env || !*env) return;
  const char* rest = nullptr;
  const long v = parseBytes(env, &rest);
  if (v >= 0 && *rest == '\0') {
    gStreamBytes = v;
    return;
  }
  addNote("LWZ_STREAM_BYTES=%.20s is not a size such as 32M; using the last-level cache size", env);
}

static long gSpinMicros = 400;

// LWZ_SPIN_US=N (0-100000): how long idle pool workers spin before they sleep (pool.cpp). Anything else keeps
// the default and leaves a note.
static void applySpinEnv() {
  const char* env = std::getenv("LWZ_SPIN_US");
  if (!env || !*env) return;
  if (!wholeNumber(env, 0, 100000, &gSpinMicros))
    addNote("LWZ_SPIN_US=%.20s is not a whole number of microseconds in 0-100000; using %ld", env, gSpinMicros);
}

long spinMicros() { return gSpinMicros; }

static bool parseIsa(const char* name, Isa* out) {
  if (std::strcmp(name, "avx512") == 0) *out = Isa::avx512;
  else if (std::strcmp(name, "avx2") == 0) *out = Isa::avx2;
  else if (std::strcmp(name, "generic") == 0) *out = Isa::generic;
  else return false;
  return true;
}

// LWZ_ISA: a path the CPU has is used; an unknown name or a path the CPU lacks keeps the detected one and
// leaves a note the TypeScript side prints once.
static void applyIsaEnv() {
  const char* env = std::getenv("LWZ_ISA");
  if (!env || !*env) return;
  Isa want;
  if (!parseIsa(env, &want)) {
    addNote("LWZ_ISA=%.20s is not one of avx512, avx2, generic; using %s", env, isaName(gDetected));
  } else if (!setIsa(want)) {
    addNote("LWZ_ISA=%s: this CPU lacks it; using %s", env, isaName(gDetected));
  }
}

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
  long v = 0;
  const bool given = env && *env;  // empty: unset
  const bool valid = given && wholeNumber(env, 1, 1024, &v);
  if (valid) n = static_cast<int>(v);
  gThreads = n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : n);
  if (given && !valid) addNote("LWZ_THREADS=%.20s is not a whole number of threads in 1-1024; using %d", env, gThreads);
  detectCpu();
  applyIsaEnv();
  applyStreamEnv();
  applySpinEnv();
  initHugePages();
}

const char* isaNote() { return gIsaNote; }
bool isaFromName(const char* name, Isa* out) { return parseIsa(name, out); }

int threads() { return gThreads; }

void setThreads(int n) {
  gThreads = n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : n);
}
long streamBytes() { return gStreamBytes >= 0 ? gStreamBytes : cpuInfo().l3.bytes; }
void setStreamBytes(long bytes) { gStreamBytes = bytes < 0 ? -1 : bytes; }
bool streamBytesSet() { return gStreamBytes >= 0; }

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

static constexpr int kSlots = 5 * (kMaxThreads + 1);
static float* gBuf[kSlots];
static size_t gCap[kSlots];

float* scratch(Scratch kind, int tid, size_t floats) {
  int slot = static_cast<int>(kind) * (kMaxThreads + 1) + tid;
  if (tid < 0 || tid > kMaxThreads) std::abort();
  if (gCap[slot] < floats) {
    std::free(gBuf[slot]);
    gBuf[slot] = allocFloats(floats);  // from 2 MiB on huge pages (hugepages.cpp)
    gCap[slot] = floats;
  }
  return gBuf[slot];
}

}  // namespace lwz
