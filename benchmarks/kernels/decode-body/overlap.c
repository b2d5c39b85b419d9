/* Can this machine hide arithmetic behind a memory stream? (#10) A plain streaming read, one sequential
 * stream per thread with no software prefetch, that does F independent 8-lane FMAs (12 accumulators) per 64-byte
 * line it loads, for F = 0 .. 36; best of several passes, ns per line per thread. Compare a buffer that stays
 * in cache (1 MiB) with one from memory (400 MiB): where the memory time per line exceeds the in-cache time,
 * a line costs the memory's time alone when the two overlap, and about their sum when they do not. The decode
 * attention does 14 FMAs per line of K and V (112 a key at GQA 7, D 64).
 *   gcc -O2 -mavx2 -mfma -pthread benchmarks/kernels/decode-body/overlap.c -o /tmp/overlap
 *   /tmp/overlap THREADS MIB [PHASE]   (e.g. 1 1, then 1 400 and 2 400; pin with taskset on a busy machine)
 * PHASE > 0: two streams per thread read in turns of PHASE lines each (512: the attention's 128-key chunks).
 * The last line printed ("with L1 operands") takes each FMA's second operand from an L1-resident table, not a register. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* 0: one stream; else two (each thread's slice halves), taken in turns of `phase` lines, as the attention takes K
 * in its scores and V in its P V */
static size_t phase = 0;

#define FMA(i, x) a##i = _mm256_fmadd_ps(x, w, a##i);
#define F4(i0, i1, i2, i3) FMA(i0, v0) FMA(i1, v1) FMA(i2, v0) FMA(i3, v1)
/* one scan function per FMA count: the accumulators stay in registers */
#define SCAN(F, BODY)                                                                          \
  static float scan##F(const float *p, size_t lines) {                                         \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;     \
    __m256 a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;                                      \
    const __m256 w = _mm256_set1_ps(1.0001f);                                                  \
    const size_t half = lines / 2, ph = phase ? phase : lines, streams = phase ? 2 : 1;        \
    for (size_t b = 0; b < (phase ? half : lines); b += ph)                                    \
      for (size_t st = 0; st < streams; st++)                                                  \
        for (size_t l = b + st * half, e = l + ph; l < e; l++) {                               \
          const __m256 v0 = _mm256_load_ps(p + 16 * l), v1 = _mm256_load_ps(p + 16 * l + 8);   \
          BODY                                                                                 \
        }                                                                                      \
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),      \
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));     \
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));       \
    return s[0];                                                                               \
  }
SCAN(0, (void)w; a0 = _mm256_add_ps(a0, v0); a1 = _mm256_add_ps(a1, v1);)
SCAN(4, F4(0, 1, 2, 3))
SCAN(8, F4(0, 1, 2, 3) F4(4, 5, 6, 7))
SCAN(12, F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11))
SCAN(16, F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11) F4(0, 1, 2, 3))
SCAN(24, F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11) F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11))
SCAN(36, F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11) F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11)
             F4(0, 1, 2, 3) F4(4, 5, 6, 7) F4(8, 9, 10, 11))
/* 12 FMAs a line whose other operand is an L1 load (a 4 KiB table), as the attention's tiles take q and reload
 * partial sums and probabilities: 14 loads a line instead of 2 (the attention: ~11 loads and 14 FMAs a line) */
static float table[8 * (128 + 12)] __attribute__((aligned(64)));
#define FMAT(i, x) a##i = _mm256_fmadd_ps(x, _mm256_load_ps(row + 8 * i), a##i);
SCAN(12l1, (void)w; const float *row = table + 8 * (l & 127); FMAT(0, v0) FMAT(1, v1) FMAT(2, v0) FMAT(3, v1) FMAT(4, v0) FMAT(5, v1) FMAT(6, v0) FMAT(7, v1)
                FMAT(8, v0) FMAT(9, v1) FMAT(10, v0) FMAT(11, v1))
static float (*const scans[])(const float *, size_t) = {scan0, scan4, scan8, scan12, scan16, scan24, scan36, scan12l1};
static const int fmas[] = {0, 4, 8, 12, 16, 24, 36, 12};

typedef struct {
  const float *p;
  size_t lines;
  int which, cpu;
  double ns;
  float sink;
} Arg;

static void *run(void *v) {
  Arg *a = v;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(a->cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  const double t0 = now();
  a->sink = scans[a->which](a->p, a->lines);
  a->ns = (now() - t0) * 1e9 / (double)a->lines;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: overlap THREADS MIB\n");
    return 2;
  }
  const int threads = atoi(argv[1]);
  if (argc > 3) phase = (size_t)atol(argv[3]);
  const size_t bytes = (size_t)atol(argv[2]) << 20;
  if (threads < 1 || threads > 64 || bytes < ((size_t)1 << 20) || (phase && (bytes / 64 / threads / 2) % phase)) {
    fprintf(stderr, "overlap: THREADS in 1..64, at least 1 MiB, and PHASE dividing each stream's lines\n");
    return 2;
  }
  float *buf = NULL;
  if (posix_memalign((void **)&buf, (size_t)2 << 20, bytes)) return 1;
  madvise(buf, bytes, MADV_HUGEPAGE);
  memset(buf, 0, bytes);
  const size_t lines = bytes / 64 / (size_t)threads;
  const int passes = bytes < ((size_t)64 << 20) ? 40 : 4;
  for (int f = 0; f < (int)(sizeof fmas / sizeof fmas[0]); f++) {
    double best = 1e30;
    for (int pass = 0; pass < passes; pass++) {
      pthread_t th[64];
      Arg args[64];
      for (int t = 0; t < threads; t++) {
        args[t] = (Arg){buf + (size_t)t * lines * 16, lines, f, t, 0, 0};
        pthread_create(&th[t], NULL, run, &args[t]);
      }
      double slowest = 0;
      for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        if (args[t].ns > slowest) slowest = args[t].ns;
      }
      if (slowest < best) best = slowest;
    }
    const int last = f == (int)(sizeof fmas / sizeof fmas[0]) - 1;
    printf("threads %d, %zu MiB, phase %zu, %2d FMAs per line%s: %.2f ns per line per thread (%.1f GB/s in all)\n", threads, bytes >> 20, phase,
           fmas[f], last ? " with L1 operands" : "", best, 64.0 * threads / best);
  }
  free(buf);
  return 0;
}
