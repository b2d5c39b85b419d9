// Optional system BLAS (LWZ_BLAS=auto|own|PATH): MKL, OpenBLAS or BLIS loaded with dlopen when present, never
// linked, so a machine without one runs our kernels unchanged. A calibration (blasCalibrate, run once per
// machine by the TypeScript side and cached) times both on representative shapes; blasSetPlan then routes a
// top-level matmul to the BLAS only when the nearest calibrated shape (same transposes) ran >= 10% faster there.
#include "blas.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace lwz {
namespace {

enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using Sgemv = void (*)(int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using SetThreads = void (*)(int);

struct Lib {
  void* handle = nullptr;
  Sgemm sgemm = nullptr;
  Sgemv sgemv = nullptr;
  SetThreads setThreads = nullptr;
  int threads = 0;
  char path[512] = {0};
};

Lib gLib;
char gNote[640];
std::vector<BlasPoint> gPlan;

// OpenBLAS's idle workers spin (sched_yield) for 2^28 TSC cycles, ~0.1 s, after every call before they sleep.
// With a routed BLAS call before one of ours, that spinner holds a core while our kernel runs: on 2 cores the
// scheduler then stacks our pool's worker on the caller's core and our threaded GEMV ran at one thread's
// speed for whole runs (issue #15: the "bimodal" 1x4096x4096 Bt, 4 ms instead of 2). 2^21 cycles (~1 ms at
// 2-3 GHz) is about how long our own pool's workers spin. OpenBLAS reads this when it is loaded, so it only
// applies when we load it first; a value the user set is kept.
void limitBlasSpin() { setenv("OPENBLAS_THREAD_TIMEOUT", "21", 0); }

bool tryOpen(const char* path, char* err, size_t errLen) {
  limitBlasSpin();
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::snprintf(err, errLen, "%s", dlerror());
    return false;
  }
  Lib lib;
  lib.handle = h;
  lib.sgemm = reinterpret_cast<Sgemm>(dlsym(h, "cblas_sgemm"));
  lib.sgemv = reinterpret_cast<Sgemv>(dlsym(h, "cblas_sgemv"));
  if (!lib.sgemm || !lib.sgemv) {
    std::snprintf(err, errLen, "%s has no cblas_sgemm/cblas_sgemv", path);
    dlclose(h);
    return false;
  }
  lib.setThreads = reinterpret_cast<SetThreads>(dlsym(h, "openblas_set_num_threads"));
  if (!lib.setThreads) lib.setThreads = reinterpret_cast<SetThreads>(dlsym(h, "bli_thread_set_num_threads"));
  if (!lib.setThreads) lib.setThreads = reinterpret_cast<SetThreads>(dlsym(h, "MKL_Set_Num_Threads"));
  Dl_info where;
  const bool found = dladdr(reinterpret_cast<void*>(lib.sgemm), &where) && where.dli_fname;
  std::snprintf(lib.path, sizeof lib.path, "%s", found ? where.dli_fname : path);
  gLib = lib;
  return true;
}

void syncThreads() {
  if (gLib.setThreads && gLib.threads != threads()) {
    gLib.setThreads(threads());
    gLib.threads = threads();
  }
}

double nowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool blasLoad(const char* spec) {
  gNote[0] = '\0';
  gPlan.clear();
  if (spec && std::strcmp(spec, "own") == 0) {
    gLib = Lib();  // the library stays mapped (its threads may live on); nothing routes to it
    return false;
  }
  char err[400];
  if (!spec || !*spec || std::strcmp(spec, "auto") == 0) {
    if (gLib.handle) return true;
    static const char* const kCandidates[] = {"libmkl_rt.so.2", "libmkl_rt.so", "libopenblas.so.0", "libopenblas.so",
                                              "libblis.so.4",   "libblis.so"};
    for (const char* c : kCandidates)
      if (tryOpen(c, err, sizeof err)) return true;
    return false;  // nothing installed: our kernels, silently
  }
  if (tryOpen(spec, err, sizeof err)) return true;
  gLib = Lib();
  std::snprintf(gNote, sizeof gNote, "LWZ_BLAS=%.200s could not be loaded (%.380s); using our own kernels", spec, err);
  return false;
}

const char* blasPath() { return gLib.handle ? gLib.path : ""; }
const char* blasNote() { return gNote; }

void blasSetPlan(const std::vector<BlasPoint>& plan) { gPlan = plan; }

bool blasWants(long m, long n, long k, bool ta, bool tb) {
  if (!gLib.handle || gPlan.empty() || static_cast<double>(m) * n * k < 1.0e6) return false;
  const double lm = std::log2(static_cast<double>(m)), ln = std::log2(static_cast<double>(n));
  const double lk = std::log2(static_cast<double>(k));
  const BlasPoint* best = nullptr;
  double bestD = 0;
  for (const BlasPoint& p : gPlan) {
    const double d = (lm - std::log2(p.m)) * (lm - std::log2(p.m)) + (ln - std::log2(p.n)) * (ln - std::log2(p.n)) +
                     (lk - std::log2(p.k)) * (lk - std::log2(p.k)) + (p.ta != ta || p.tb != tb ? 100.0 : 0.0);
    if (!best || d < bestD) {
      best = &p;
      bestD = d;
    }
  }
  return best && best->useBlas;
}

void blasMatmul(const float* a, const float* b, float* c, long m, long n, long k, bool ta, bool tb, float alpha, bool acc) {
  syncThreads();
  const float beta = acc ? 1.0f : 0.0f;
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  if (m == 1) {  // c (n) = op(b)^T a
    if (tb) gLib.sgemv(kRowMajor, kNoTrans, N, K, alpha, b, K, a, 1, beta, c, 1);
    else gLib.sgemv(kRowMajor, kTrans, K, N, alpha, b, N, a, 1, beta, c, 1);
    return;
  }
  if (n == 1) {  // c (m) = op(a) b
    if (ta) gLib.sgemv(kRowMajor, kTrans, K, M, alpha, a, M, b, 1, beta, c, 1);
    else gLib.sgemv(kRowMajor, kNoTrans, M, K, alpha, a, K, b, 1, beta, c, 1);
    return;
  }
  gLib.sgemm(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, M, N, K, alpha, a, ta ? M : K, b, tb ? K : N, beta,
             c, N);
}

// A float buffer laid out as the cpu backend lays out tensors (aligned; huge pages from 2 MiB, hugepages.cpp):
// both sides of the timing read the same memory, as both read our tensors when routed.
class Floats {
 public:
  explicit Floats(size_t n) : p(allocFloats(n)) { std::memset(p, 0, n * sizeof(float)); }
  ~Floats() { std::free(p); }
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;
  float* data() const { return p; }

 private:
  float* p;
};

namespace {

// Operands of one timed shape, filled with fixed values in [-0.5, 0.5).
struct TimedOperands {
  Floats a, b, c;
  TimedOperands(long m, long n, long k)
      : a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c(static_cast<size_t>(m * n)) {
    for (size_t i = 0; i < static_cast<size_t>(m * k); i++) a.data()[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
    for (size_t i = 0; i < static_cast<size_t>(k * n); i++) b.data()[i] = static_cast<float>((i * 104729) % 1000) * 1e-3f - 0.5f;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Median ms of `reps` calls of ours after a warm-up call.
double timeOurs(const TimedOperands& o, long m, long n, long k, bool ta, bool tb, int reps) {
  std::vector<double> ms;
  for (int r = -1; r < reps; r++) {
    const double t0 = nowMs();
    if (!gemv(o.a.data(), o.b.data(), o.c.data(), m, n, k, ta, tb, 1.0f, false))
      gemm(o.a.data(), o.b.data(), o.c.data(), m, n, k, ta, tb, 1.0f, false);
    if (r >= 0) ms.push_back(nowMs() - t0);
  }
  return median(ms);
}

}  // namespace

BlasTiming blasTime(long m, long n, long k, bool ta, bool tb, int reps) {
  const TimedOperands o(m, n, k);
  // Ours in one block, then the BLAS in one block, each after a warm-up call: interleaving would time ours
  // while the BLAS's worker threads still spin from its previous call (OpenBLAS spins ~0.1 s after each).
  const double ours = timeOurs(o, m, n, k, ta, tb, reps);
  std::vector<double> theirs;
  for (int r = -1; r < reps; r++) {
    const double t0 = nowMs();
    blasMatmul(o.a.data(), o.b.data(), o.c.data(), m, n, k, ta, tb, 1.0f, false);
    if (r >= 0) theirs.push_back(nowMs() - t0);
  }
  return {ours, median(theirs)};
}

double gemmTime(long m, long n, long k, bool ta, bool tb, int reps) {
  const TimedOperands o(m, n, k);
  return timeOurs(o, m, n, k, ta, tb, reps);
}

}  // namespace lwz
