// Exploration harness (session 13, branch gemv2; not built by the project, not a suite): variants of the AVX2
// transposed-B GEMV y[n] = sum_k x[k] W[n,k] on 2 threads (contiguous halves, or "cN": N chunks as gemv.cpp's
// affinity chunks), each call over another copy of W (>= 128 MiB in all, so every call reads from memory), against
// OpenBLAS's cblas_sgemv in the same process and a plain 2-thread read. Variants, called in turn every round:
// "cur4 T1 8K" the former dotRows (4 adjacent rows, software prefetch 8 KiB ahead into L2); "R nopf" R adjacent
// rows, no prefetch; "R xblk H D" R adjacent rows prefetching D ahead, continuing into the next block's rows;
// "AR" R adjacent rows with one accumulator each; "SR" R rows spaced rows/R apart (each stream one contiguous run,
// the new dotRows is S4), "SR H D" the same with a prefetch. Prints min / p10 / p25 / median ms per call.
//   g++ -O2 -std=c++17 -falign-loops=64 -o /tmp/gemv-dot dot.cpp -ldl -lpthread
//   /tmp/gemv-dot ROUNDS [name filter] [N K]      (N rows of length K; default 4096 4096)
// standalone GEMV (transB) variant harness: y[n] = sum_k x[k] W[n,k], 2 threads, contiguous halves
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
static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// PF: 0 none, 1 in-row (current), 2 cross-block (next block's same row when past end)
template <int R, int PF, int HINT>
void dotR(const float* w, long ldw, long rows, const float* x, long k, float* out, long ahead) {
  long r = 0;
  for (; r + R <= rows; r += R) {
    const float* wr[R];
    const float* pf[R];
    for (int i = 0; i < R; i++) wr[i] = w + (r + i) * ldw;
    __m256 a[R], b[R];
    for (int i = 0; i < R; i++) a[i] = b[i] = _mm256_setzero_ps();
    long p = 0;
    const bool nextBlock = r + 2 * R <= rows;
    for (; p + 16 <= k; p += 16) {
      if (PF == 1) {
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) _mm_prefetch((const char*)(wr[i] + p + ahead), (_mm_hint)HINT);
      } else if (PF == 2) {
        long q = p + ahead;
        if (q < k) {
#pragma GCC unroll 8
          for (int i = 0; i < R; i++) _mm_prefetch((const char*)(wr[i] + q), (_mm_hint)HINT);
        } else if (nextBlock) {
#pragma GCC unroll 8
          for (int i = 0; i < R; i++) _mm_prefetch((const char*)(wr[i] + R * ldw + q - k), (_mm_hint)HINT);
        }
      }
      __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
#pragma GCC unroll 8
      for (int i = 0; i < R; i++) {
        a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[i] + p), x0, a[i]);
        b[i] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[i] + p + 8), x1, b[i]);
      }
    }
    for (int i = 0; i < R; i++) out[r + i] = hsum(_mm256_add_ps(a[i], b[i]));
  }
  for (; r < rows; r++) {
    __m256 a0 = _mm256_setzero_ps();
    for (long p = 0; p < k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + p), _mm256_loadu_ps(x + p), a0);
    out[r] = hsum(a0);
  }
}
// one row at a time, 4 accumulators x 8, 32 floats per step (one sequential stream)
template <int PF>
void dot1(const float* w, long ldw, long rows, const float* x, long k, float* out, long ahead) {
  for (long r = 0; r < rows; r++) {
    const float* w0 = w + r * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (long p = 0; p < k; p += 32) {
      if (PF) { _mm_prefetch((const char*)(w0 + p + ahead), _MM_HINT_T0); _mm_prefetch((const char*)(w0 + p + ahead + 16), _MM_HINT_T0); }
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), _mm256_loadu_ps(x + p), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 8), _mm256_loadu_ps(x + p + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 16), _mm256_loadu_ps(x + p + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 24), _mm256_loadu_ps(x + p + 24), a3);
    }
    out[r] = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
}
// R rows, one accumulator per row, 16 floats per step (two dependent FMAs), no software prefetch
template <int R>
void dotA(const float* w, long ldw, long rows, const float* x, long k, float* out, long) {
  long r = 0;
  for (; r + R <= rows; r += R) {
    const float* w0 = w + r * ldw;
    __m256 a[R];
    for (int i = 0; i < R; i++) a[i] = _mm256_setzero_ps();
    for (long p = 0; p + 16 <= k; p += 16) {
      __m256 x0 = _mm256_loadu_ps(x + p);
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i * ldw + p), x0, a[i]);
      x0 = _mm256_loadu_ps(x + p + 8);
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i * ldw + p + 8), x0, a[i]);
    }
    for (int i = 0; i < R; i++) out[r + i] = hsum(a[i]);
  }
  for (; r < rows; r++) {
    __m256 a0 = _mm256_setzero_ps();
    for (long p = 0; p < k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + p), _mm256_loadu_ps(x + p), a0);
    out[r] = hsum(a0);
  }
}
// R rows spaced rows/R apart: each of the R streams reads one contiguous run of rows front to back
template <int R, int PFH = -1>
void dotS(const float* w, long ldw, long rows, const float* x, long k, float* out, long ahead) {
  const long S = rows / R;
  for (long j = 0; j < S; j++) {
    const float* w0 = w + j * ldw;
    const long st = S * ldw;
    __m256 a[R], b[R];
    for (int i = 0; i < R; i++) a[i] = b[i] = _mm256_setzero_ps();
    for (long p = 0; p + 16 <= k; p += 16) {
      __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
      if (PFH >= 0) {
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) _mm_prefetch((const char*)(w0 + i * st + p + ahead), (_mm_hint)PFH);
      }
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) {
        a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i * st + p), x0, a[i]);
        b[i] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i * st + p + 8), x1, b[i]);
      }
    }
    for (int i = 0; i < R; i++) out[j + i * S] = hsum(_mm256_add_ps(a[i], b[i]));
  }
  for (long r = R * S; r < rows; r++) {
    __m256 a0 = _mm256_setzero_ps();
    for (long p = 0; p < k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + p), _mm256_loadu_ps(x + p), a0);
    out[r] = hsum(a0);
  }
}
float readSum(const float* w, long lo, long hi) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (long i = lo; i < hi; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(w + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(w + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(w + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(w + i + 24));
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}
#pragma GCC reset_options

using Fn = void (*)(const float*, long, long, const float*, long, float*, long);
struct Var { std::string name; Fn f; long ahead; };

// minimal 2-thread fork-join
std::atomic<int> gGen{0}, gDone{0};
std::atomic<bool> gStop{false};

#include <functional>
std::function<void(int)> gWork;
void worker() {
  int seen = 0;
  while (!gStop.load()) {
    int g = gGen.load(std::memory_order_acquire);
    if (g == seen) { _mm_pause(); continue; }
    seen = g;
    gWork(1);
    gDone.fetch_add(1, std::memory_order_release);
  }
}
void run2(std::function<void(int)> f) {
  gWork = f;
  gDone.store(0);
  gGen.fetch_add(1, std::memory_order_release);
  f(0);
  while (gDone.load(std::memory_order_acquire) < 1) _mm_pause();
}
double nowMs() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

using Sgemv = void (*)(int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  const char* filt = argc > 2 ? argv[2] : "";
  long N = argc > 3 ? atol(argv[3]) : 4096, K = argc > 4 ? atol(argv[4]) : 4096;
  size_t bytes = N * K * 4;
  // copies: enough to stream >= 128 MiB per sequence of calls, so every call reads from DRAM
  const long copies = std::max(1L, (long)((128L << 20) / bytes));
  const size_t stride = (bytes + (2 << 20) - 1) / (2 << 20) * (2 << 20);
  float* base = (float*)aligned_alloc(1 << 21, stride * copies);
  madvise(base, stride * copies, MADV_HUGEPAGE);
  for (long c = 0; c < copies; c++) { float* q = (float*)((char*)base + c * stride); for (long i = 0; i < N * K; i++) q[i] = ((i * 104729) % 1000) * 1e-3f - 0.5f; }
  float* w = base;
  printf("N %ld K %ld copies %ld\n", N, K, copies);
  float* x = (float*)aligned_alloc(64, K * 4);
  for (long i = 0; i < K; i++) x[i] = ((i * 7919) % 1000) * 1e-3f - 0.5f;
  std::vector<float> ref(N), y(N);
  for (long r = 0; r < N; r++) { double s = 0; for (long p = 0; p < K; p++) s += (double)w[r * K + p] * x[p]; ref[r] = s; }
  setenv("OPENBLAS_THREAD_TIMEOUT", "21", 0);
  void* h = dlopen("libopenblas.so.0", RTLD_NOW);
  Sgemv sgemv = (Sgemv)dlsym(h, "cblas_sgemv");
  ((void (*)(int))dlsym(h, "openblas_set_num_threads"))(2);
  std::thread t(worker);
  std::vector<Var> vars = {
    {"cur4 T1 8K", dotR<4, 1, _MM_HINT_T1>, 2048},
    {"4 nopf", dotR<4, 0, _MM_HINT_T1>, 0},
    {"4 xblk T1 8K", dotR<4, 2, _MM_HINT_T1>, 2048},
    {"4 xblk T1 4K", dotR<4, 2, _MM_HINT_T1>, 1024},
    {"4 xblk T1 16K", dotR<4, 2, _MM_HINT_T1>, 4096},
    {"4 xblk T0 8K", dotR<4, 2, _MM_HINT_T0>, 2048},
    {"8 nopf", dotR<8, 0, _MM_HINT_T1>, 0},
    {"8 xblk T1 8K", dotR<8, 2, _MM_HINT_T1>, 2048},
    {"2 nopf", dotR<2, 0, _MM_HINT_T1>, 0},
    {"2 xblk T1 8K", dotR<2, 2, _MM_HINT_T1>, 2048},
    {"1 nopf", dot1<0>, 0},
    {"A4", dotA<4>, 0},
    {"S2", dotS<2>, 0},
    {"S4 c22", dotS<4>, 0},
    {"S4 c8", dotS<4>, 0},
    {"S4 c4", dotS<4>, 0},
    {"S8 c22", dotS<8>, 0},
    {"S4 T1 8K", dotS<4, _MM_HINT_T1>, 2048},
    {"S4 T1 2K", dotS<4, _MM_HINT_T1>, 512},
    {"S4 T0 1K", dotS<4, _MM_HINT_T0>, 256},
    {"S4 NTA 4K", dotS<4, _MM_HINT_NTA>, 1024},
    {"S4", dotS<4>, 0},
    {"S6", dotS<6>, 0},
    {"S8", dotS<8>, 0},
    {"A8", dotA<8>, 0},
    {"A12", dotA<12>, 0},
    {"A16", dotA<16>, 0},
    {"1 pf T0 1K", dot1<1>, 256},
  };
  std::vector<std::string> names;
  for (auto& v : vars) if (strstr(v.name.c_str(), filt) || !*filt) names.push_back(v.name);
  names.push_back("openblas"); names.push_back("read");
  std::vector<std::vector<double>> t_(names.size());
  for (int rd = 0; rd < rounds; rd++) {
    for (size_t vi = 0; vi < names.size(); vi++) {
      const std::string& nm = names[vi];
      for (int rep = 0; rep < 2; rep++) {
        double t0 = nowMs();
        for (long c = 0; c < copies; c++) { w = (float*)((char*)base + c * stride);
        if (nm == "openblas") sgemv(101, 111, N, K, 1.0f, w, K, x, 1, 0.0f, y.data(), 1);
        else if (nm == "read") {
          float s[2];
          run2([&](int tid) { s[tid] = readSum(w, tid * N * K / 2, (tid + 1) * N * K / 2); });
          y[0] = s[0] + s[1];
        } else {
          const Var* v = nullptr; for (auto& q : vars) if (q.name == nm) v = &q;
          if (nm.find(" c") != std::string::npos) {
            const long C = atol(nm.c_str() + nm.find(" c") + 2);
            run2([&](int tid) {
              for (long c = tid * C / 2; c < (tid + 1) * C / 2; c++) {
                long r0 = N * c / C / 16 * 16, r1 = c + 1 == C ? N : N * (c + 1) / C / 16 * 16;
                v->f(w + r0 * K, K, r1 - r0, x, K, y.data() + r0, v->ahead);
              }
            });
          } else
          run2([&](int tid) { long r0 = tid * N / 2, r1 = (tid + 1) * N / 2; v->f(w + r0 * K, K, r1 - r0, x, K, y.data() + r0, v->ahead); });
          if (rd == 0 && rep == 0 && c == 0) { double e = 0; for (long r = 0; r < N; r++) e = std::max(e, (double)std::fabs(y[r] - ref[r])); if (e > 1e-2) printf("BAD %s err %g\n", nm.c_str(), e); }
        }
        }
        double dt = (nowMs() - t0) / copies;
        if (rep == 1) t_[vi].push_back(dt);
      }
    }
  }
  // per-variant: min, median; ratio vs openblas median-of-mins
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  size_t ob = names.size() - 2;
  for (size_t vi = 0; vi < names.size(); vi++) {
    std::vector<double> sv = t_[vi]; std::sort(sv.begin(), sv.end()); double p10 = sv[sv.size() / 10], p25 = sv[sv.size() / 4];
    double mn = sv[0], md = med(t_[vi]);
    printf("p10 %.3f p25 %.3f  ", p10, p25);
    printf("%-16s min %.3f ms (%.1f GB/s)  med %.3f   blas/ours min %.3f med %.3f\n", names[vi].c_str(), mn, bytes / mn / 1e6, md,
           *std::min_element(t_[ob].begin(), t_[ob].end()) / mn, med(t_[ob]) / md);
  }
  gStop = true; t.join();
}
