/* OpenBLAS baseline for the kernels suite: times cblas_sgemm (row-major, C = A @ B) and cblas_sgemv
 * (y = x @ W for M = 1, i.e. W^T x on a row-major (K, N) W) on the shapes it is given and prints one JSON
 * line per shape. Our own few lines, compiled by lwz-bench at run time; not a project dependency.
 * Usage: harness ITERATIONS WARMUP SPEC...   SPEC = sgemm:M:K:N | sgemv:K:N
 * Threads come from OPENBLAS_NUM_THREADS, set by the runner to the same count as our kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>

extern char *openblas_get_config(void);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static float *random_buffer(size_t n, unsigned *state) {
  float *p = malloc(n * sizeof(float));
  if (!p) { fprintf(stderr, "harness: out of memory for %zu floats\n", n); exit(2); }
  for (size_t i = 0; i < n; i++) { *state = *state * 1664525u + 1013904223u; p[i] = (float)(*state >> 8) / 16777216.0f * 2.0f - 1.0f; }
  return p;
}

static double run_spec(const char *spec, int iterations, int warmup) {
  int m = 1, k = 0, n = 0, gemv = 0;
  if (sscanf(spec, "sgemm:%d:%d:%d", &m, &k, &n) == 3) gemv = 0;
  else if (sscanf(spec, "sgemv:%d:%d", &k, &n) == 2) gemv = 1;
  else { fprintf(stderr, "harness: cannot parse spec %s (want sgemm:M:K:N or sgemv:K:N)\n", spec); exit(2); }
  unsigned state = 12345u;
  float *a = random_buffer((size_t)m * k, &state); /* (M, K) */
  float *b = random_buffer((size_t)k * n, &state); /* (K, N) */
  float *c = calloc((size_t)m * n, sizeof(float)); /* (M, N) */
  double *samples = malloc(sizeof(double) * iterations);
  for (int it = -warmup; it < iterations; it++) {
    double t0 = now_ms();
    if (gemv) cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, b, n, a, 1, 0.0f, c, 1);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double t1 = now_ms();
    if (it >= 0) samples[it] = t1 - t0;
  }
  qsort(samples, iterations, sizeof(double), cmp_double);
  double median = iterations % 2 ? samples[iterations / 2] : (samples[iterations / 2 - 1] + samples[iterations / 2]) / 2;
  free(a); free(b); free(c); free(samples);
  return median;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: harness ITERATIONS WARMUP SPEC...\n"); return 2; }
  int iterations = atoi(argv[1]), warmup = atoi(argv[2]);
  if (iterations < 1 || warmup < 0) { fprintf(stderr, "harness: ITERATIONS >= 1 and WARMUP >= 0\n"); return 2; }
  printf("{\"info\": \"%s\"}\n", openblas_get_config());
  for (int i = 3; i < argc; i++) {
    double median = run_spec(argv[i], iterations, warmup);
    printf("{\"spec\": \"%s\", \"median_ms\": %.6f}\n", argv[i], median);
    fflush(stdout);
  }
  return 0;
}
