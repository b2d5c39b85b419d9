/* Memory read bandwidth baseline for the long-context suite: times a plain streaming read (a sum with 16
 * independent accumulators) over a fresh buffer of the given size, split over MEMBW_THREADS threads, so
 * "ratio" in the table = the time this takes / the time our decode attention takes to read the same bytes
 * of KV cache: the attention's share of the machine's read bandwidth. Our own few lines, compiled by
 * lwz-bench at run time. Usage: harness ITERATIONS WARMUP SPEC...   SPEC = read:BYTES
 * The buffer gets what the cpu backend gives a large tensor (libs/kernels/native/hugepages.cpp): a 2 MiB
 * boundary and, on Linux unless LWZ_HUGEPAGES=0, MADV_HUGEPAGE before its first touch, so the ratio compares
 * the reads, not the page sizes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* bytes on a 2 MiB boundary, marked for transparent huge pages as the cpu backend marks its tensors */
static float *alloc_read_buffer(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  void *p = NULL;
  if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge)) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const char *env = getenv("LWZ_HUGEPAGES");
  if (!(env && strcmp(env, "0") == 0) && bytes >= huge) madvise(p, bytes / huge * huge, MADV_HUGEPAGE);
#endif
  return (float *)p;
}

typedef struct { const float *p; size_t n; float sum; } Slice;

static void *read_slice(void *arg) {
  Slice *s = (Slice *)arg;
  float acc[16] = {0};
  size_t i = 0;
  for (; i + 16 <= s->n; i += 16)
    for (int u = 0; u < 16; u++) acc[u] += s->p[i + u];
  for (; i < s->n; i++) acc[0] += s->p[i];
  for (int u = 1; u < 16; u++) acc[0] += acc[u];
  s->sum = acc[0];
  return NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: harness ITERATIONS WARMUP read:BYTES...\n"); return 2; }
  int iterations = atoi(argv[1]), warmup = atoi(argv[2]);
  const char *env = getenv("MEMBW_THREADS");
  int threads = env && atoi(env) > 0 ? atoi(env) : 1;
  printf("{\"info\": \"streaming read, %d thread(s)\"}\n", threads);
  for (int a = 3; a < argc; a++) {
    size_t bytes = 0;
    if (sscanf(argv[a], "read:%zu", &bytes) != 1 || bytes < 64) { fprintf(stderr, "harness: bad spec %s\n", argv[a]); return 2; }
    size_t n = bytes / sizeof(float);
    float *buf = alloc_read_buffer(n * sizeof(float));
    if (!buf) { fprintf(stderr, "harness: out of memory for %zu bytes\n", bytes); return 2; }
    for (size_t i = 0; i < n; i++) buf[i] = (float)(i % 97) * 0.01f;
    double *samples = malloc(sizeof(double) * iterations);
    pthread_t tid[64];
    Slice slices[64];
    float sink = 0;
    for (int it = -warmup; it < iterations; it++) {
      double t0 = now_ms();
      size_t per = n / threads;
      for (int t = 0; t < threads; t++) {
        slices[t].p = buf + t * per;
        slices[t].n = t == threads - 1 ? n - t * per : per;
        pthread_create(&tid[t], NULL, read_slice, &slices[t]);
      }
      for (int t = 0; t < threads; t++) { pthread_join(tid[t], NULL); sink += slices[t].sum; }
      double t1 = now_ms();
      if (it >= 0) samples[it] = t1 - t0;
    }
    qsort(samples, iterations, sizeof(double), cmp_double);
    double median = iterations % 2 ? samples[iterations / 2] : (samples[iterations / 2 - 1] + samples[iterations / 2]) / 2;
    printf("{\"spec\": \"%s\", \"median_ms\": %.6f, \"checksum\": %g}\n", argv[a], median, (double)sink);
    free(samples);
    free(buf);
  }
  return 0;
}
