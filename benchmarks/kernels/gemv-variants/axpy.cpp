// Exploration harness (session 13, branch gemv2; not built by the project, not a suite): variants of the AVX2
// plain GEMV y[n] = sum_k x[k] W[k,n] on 2 threads (contiguous halves of W's rows into per-thread partial sums),
// each call over another copy of W (>= 128 MiB in all), against OpenBLAS's cblas_sgemv in the same process.
// "cur8 pf" the former axpyRows (8 adjacent rows, the next 8 prefetched into L2); "adjR nopf" R adjacent rows, no
// prefetch; "strR" R rows spaced k/R apart, each stream one contiguous run of rows (the new axpyRows is str8; str6
// needs k/2 divisible by 6, it reports BAD otherwise). Prints min / p10 / p25 / median ms per call.
//   g++ -O2 -std=c++17 -falign-loops=64 -o /tmp/gemv-axpy axpy.cpp -ldl -lpthread
//   /tmp/gemv-axpy ROUNDS K N
// plain GEMV y[n] = sum_k x[k] W[k,n] variants; 2 threads over contiguous halves of W's rows, partial y per thread
#include <immintrin.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#include <algorithm>
#include <string>
#include <cmath>
#include <functional>
#pragma GCC target("avx2,fma")
// rows r[i] = r0 + i*rs, R at once; PF: prefetch same columns `pf` floats further
template <int R, bool PF>
static inline void blk(const float* r0, long rs, long n, const float* x, float* y, long pf) {
  const float* r[R]; __m256 xv[R];
  for (int i = 0; i < R; i++) { r[i] = r0 + i * rs; xv[i] = _mm256_set1_ps(x[i]); }
  auto step = [&](long j) {
    __m256 s = _mm256_fmadd_ps(xv[0], _mm256_loadu_ps(r[0] + j), _mm256_loadu_ps(y + j));
    __m256 t = _mm256_mul_ps(xv[1], _mm256_loadu_ps(r[1] + j));
#pragma GCC unroll 8
    for (int i = 2; i < R; i += 2) { s = _mm256_fmadd_ps(xv[i], _mm256_loadu_ps(r[i] + j), s); t = _mm256_fmadd_ps(xv[i + 1], _mm256_loadu_ps(r[i + 1] + j), t); }
    _mm256_storeu_ps(y + j, _mm256_add_ps(s, t));
  };
  for (long j = 0; j + 16 <= n; j += 16) {
    if (PF) {
#pragma GCC unroll 8
      for (int i = 0; i < R; i++) _mm_prefetch((const char*)(r[i] + j + pf), _MM_HINT_T1);
    }
    step(j); step(j + 8);
  }
}
// current: adjacent 8-row blocks, next block prefetched (ahead = 8*ldw if <= 65536 else 2048)
void axCur(const float* w, long ldw, long k, long n, const float* x, float* y) {
  const long ahead = 8 * ldw <= 65536 ? 8 * ldw : 2048;
  for (long p = 0; p + 8 <= k; p += 8) blk<8, true>(w + p * ldw, ldw, n, x + p, y, p + 16 <= k ? ahead : 0);
}
template <int R>
void axAdj(const float* w, long ldw, long k, long n, const float* x, float* y) {
  for (long p = 0; p + R <= k; p += R) blk<R, false>(w + p * ldw, ldw, n, x + p, y, 0);
}
// strided: R streams each over a contiguous run of k/R rows
template <int R>
void axStr(const float* w, long ldw, long k, long n, const float* x, float* y) {
  const long S = k / R;
  float xs[R];
  for (long j = 0; j < S; j++) {
    for (int i = 0; i < R; i++) xs[i] = x[j + i * S];
    blk<R, false>(w + j * ldw, S * ldw, n, xs, y, 0);
  }
}
#pragma GCC reset_options
using Fn = void (*)(const float*, long, long, long, const float*, float*);
std::atomic<int> gGen{0}, gDone{0}; std::atomic<bool> gStop{false}; std::function<void(int)> gWork;
void worker() { int seen = 0; while (!gStop.load()) { int g = gGen.load(std::memory_order_acquire); if (g == seen) { _mm_pause(); continue; } seen = g; gWork(1); gDone.fetch_add(1); } }
void run2(std::function<void(int)> f) { gWork = f; gDone.store(0); gGen.fetch_add(1); f(0); while (gDone.load() < 1) _mm_pause(); }
double nowMs() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
using Sgemv = void (*)(int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
int main(int argc, char** argv) {
  int rounds = atoi(argv[1]); long K = atol(argv[2]), N = atol(argv[3]);
  size_t bytes = K * N * 4; const long copies = std::max(1L, (long)((128L << 20) / bytes));
  const size_t stride = (bytes + (2 << 20) - 1) / (2 << 20) * (2 << 20);
  float* base = (float*)aligned_alloc(1 << 21, stride * copies); madvise(base, stride * copies, MADV_HUGEPAGE);
  for (long c = 0; c < copies; c++) { float* q = (float*)((char*)base + c * stride); for (long i = 0; i < K * N; i++) q[i] = ((i * 104729) % 1000) * 1e-3f - 0.5f; }
  std::vector<float> x(K), y(N), ref(N), parts(2 * N);
  for (long i = 0; i < K; i++) x[i] = ((i * 7919) % 1000) * 1e-3f - 0.5f;
  for (long j = 0; j < N; j++) { double s = 0; for (long p = 0; p < K; p++) s += (double)x[p] * base[p * N + j]; ref[j] = s; }
  setenv("OPENBLAS_THREAD_TIMEOUT", "21", 0);
  void* h = dlopen("libopenblas.so.0", RTLD_NOW); Sgemv sgemv = (Sgemv)dlsym(h, "cblas_sgemv"); ((void (*)(int))dlsym(h, "openblas_set_num_threads"))(2);
  std::thread t(worker);
  std::vector<std::pair<std::string, Fn>> vars = {{"cur8 pf", axCur}, {"adj8 nopf", axAdj<8>}, {"adj4 nopf", axAdj<4>}, {"str8", axStr<8>}, {"str4", axStr<4>}, {"str6", axStr<6>}, {"openblas", nullptr}};
  std::vector<std::vector<double>> ts(vars.size());
  for (int rd = 0; rd < rounds; rd++) for (size_t v = 0; v < vars.size(); v++) for (int rep = 0; rep < 2; rep++) {
    double t0 = nowMs();
    for (long c = 0; c < copies; c++) {
      const float* w = (const float*)((char*)base + c * stride);
      if (!vars[v].second) { sgemv(101, 112, K, N, 1.0f, w, N, x.data(), 1, 0.0f, y.data(), 1); continue; }
      run2([&](int tid) {
        float* yp = parts.data() + tid * N; memset(yp, 0, N * 4);
        long p0 = tid * K / 2 / 8 * 8, p1 = tid ? K : K / 2 / 8 * 8;
        vars[v].second(w + p0 * N, N, p1 - p0, N, x.data() + p0, yp);
      });
      for (long j = 0; j < N; j++) y[j] = parts[j] + parts[N + j];
    }
    double dt = (nowMs() - t0) / copies;
    if (rd == 0 && rep == 0) { double e = 0; for (long j = 0; j < N; j++) e = std::max(e, (double)std::fabs(y[j] - ref[j])); if (e > 1e-2) printf("BAD %s %g\n", vars[v].first.c_str(), e); }
    if (rep == 1) ts[v].push_back(dt);
  }
  for (size_t v = 0; v < vars.size(); v++) { auto s = ts[v]; std::sort(s.begin(), s.end()); printf("%-10s min %.3f p10 %.3f p25 %.3f med %.3f (%.1f GB/s at p10)\n", vars[v].first.c_str(), s[0], s[s.size() / 10], s[s.size() / 4], s[s.size() / 2], bytes / s[s.size() / 10] / 1e6); }
  gStop = true; t.join();
}
