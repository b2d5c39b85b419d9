// The CUDA backend's C API (liblwz_cuda): every kernel of libs/kernels/src/kernel-signatures.ts over raw device
// pointers, plus the runtime (device, stream, caching allocator, errors). One ABI for three callers: the Node-API
// addon (addon/module.cpp), the standalone conformance lab (lab/) and the GPU check's Python/ctypes benchmark.
// Not a tensor library: shapes arrive as numbers, the callers validated them. Every call returns 0 or -1 with the
// message (naming the kernel) in lwz_last_error(). Float storage is f32 or bf16 (`dt`), math is f32 (f64 where
// the contract says float64: sumSquares, sampling), matmul/attention use bf16 tensor cores with f32 accumulation.
// Shape glossary as in kernel-signatures.ts: B batch, T queries, S keys, H/Hkv heads, D head dim, N rows, C cols, V vocab.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { LWZ_F32 = 0, LWZ_BF16 = 1, LWZ_I32 = 2 /* copy and fill only (token ids, offsets) */ };

// Runtime. lwz_init must come first; it returns -1 with the reason (no driver, no device, ...) in lwz_last_error().
int lwz_init(int device);
const char* lwz_last_error(void);
/** One line: device name, compute capability, memory, GEMM engine (cuBLASLt path or own tensor-core GEMM). */
const char* lwz_describe(void);
int lwz_synchronize(void);
/** Run on another stream (e.g. PyTorch's current stream); NULL restores the backend's own stream. */
int lwz_set_stream(void* stream);
/** Options by name: "gemm" = auto|cublaslt|own, "attention" = auto|flash|wmma|simple|decode, "sync_check" = 0|1. */
int lwz_set_option(const char* name, const char* value);

// Caching device allocator: freed blocks return to per-size free lists (stream-ordered reuse on one stream).
void* lwz_alloc(size_t bytes);
int lwz_free(void* ptr);
int lwz_empty_cache(void);
/** in_use / cached bytes and the number of cudaMalloc calls so far. */
int lwz_memory_stats(size_t* in_use, size_t* cached, size_t* mallocs);
int lwz_upload(void* dst, const void* src, size_t bytes);
int lwz_download(void* dst, const void* src, size_t bytes); /* synchronises the stream */
int lwz_memset_zero(void* dst, size_t bytes);
/** Device-side error word (ids out of range): returns it and clears it. Synchronises. */
int lwz_take_device_errors(int* flags);
enum { LWZ_ERR_EMBEDDING_ID = 1, LWZ_ERR_TARGET_ID = 2 };

// Linear and elementwise. out = alpha op(a) op(b) (+ out); a (Bt, M, K) or (Bt, K, M); b batched or shared.
int lwz_matmul(const void* a, int adt, const void* b, int bdt, void* out, int odt, int64_t batch, int64_t m, int64_t n, int64_t k,
               int b_batched, int trans_a, int trans_b, float alpha, int accumulate);
int lwz_add(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb);
int lwz_mul(const void* a, const void* b, void* out, int dt, int64_t n, int64_t nb);
int lwz_scale(const void* a, void* out, int dt, int64_t n, float alpha, float beta);
/** out (C,) f32 (+)= column sums of a (N, C). */
int lwz_sum_rows(const void* a, int adt, float* out, int64_t n, int64_t c, int accumulate);
/** dst = src with dtype conversion (f32 <-> bf16); also the plain copy (any dtype, i32 included). */
int lwz_copy(const void* src, int sdt, void* dst, int ddt, int64_t n);
/**
 * dst[r, h, at[r] + t, :] = src[r, t, h, :] for h < heads: src (B, T, heads, E) into dst (B, heads, S, E) (heads = 1:
 * dst (B, S, E) [r, at[r] .. at[r] + T) = src (B, T, E) row r; heads = Hkv: the head-major KV cache's append), with
 * dtype conversion between f32 and bf16 (i32 to i32 only); `at` is host memory (B values), passed to the kernel by
 * value, 64 rows per launch.
 */
int lwz_copy_at(const void* src, int sdt, void* dst, int ddt, const int32_t* at, int64_t b, int64_t t, int64_t s, int64_t e, int64_t heads);
/** out[i] = value; for i32 storage the value must be an integer. */
int lwz_fill(void* out, int dt, int64_t n, double value);

// Embedding: out (N, C) = table (V, C)[ids]; dTable (V, C) f32 += scatter of dOut. Bad ids set LWZ_ERR_EMBEDDING_ID.
int lwz_embedding_forward(const void* table, const int32_t* ids, void* out, int dt, int64_t n, int64_t c, int64_t v);
int lwz_embedding_backward(const void* d_out, int dt, const int32_t* ids, float* d_table, int64_t n, int64_t c, int64_t v);

// RMSNorm: y = x rstd w; rstd (N,) f32. Backward: dx overwritten, dw (C,) f32 accumulated.
int lwz_rmsnorm_forward(const void* x, const void* w, void* y, float* rstd, int dt, int64_t n, int64_t c, float eps);
/** Fused residual: h = x + residual (written), y = rmsnorm(h). */
int lwz_add_rmsnorm_forward(const void* x, const void* residual, void* h, const void* w, void* y, float* rstd, int dt, int64_t n,
                            int64_t c, float eps);
int lwz_rmsnorm_backward(const void* dy, const void* x, const void* w, const float* rstd, void* dx, float* dw, int dt, int64_t n,
                         int64_t c);

// RoPE, rotate-half; x and out (B, T, H, D) (may alias), positions (B, T) i32.
int lwz_rope(const void* x, const int32_t* positions, void* out, int dt, int64_t b, int64_t t, int64_t h, int64_t d, double theta,
             int inverse);

// Attention (flash, causal GQA with KV prefix / left padding). q/out/dOut/dq (B, T, H, D), k/v/dk/dv (B, S, Hkv, D),
// lse (B, H, T) f32, q_offset and kv_start (B,) i32 on the device. The forward with head_major != 0 reads k/v as
// (B, Hkv, S, D) (the KV cache's layout); the backward takes (B, S, Hkv, D) only.
int lwz_attention_forward(const void* q, const void* k, const void* v, const int32_t* q_offset, const int32_t* kv_start, void* out,
                          float* lse, int dt, int64_t b, int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale,
                          int head_major);
/** Which fast attention versions passed their one-time self-check against the simple kernel (auto uses those). */
const char* lwz_attention_status(void);
int lwz_attention_backward(const void* q, const void* k, const void* v, const int32_t* q_offset, const int32_t* kv_start,
                           const void* out, const float* lse, const void* d_out, void* dq, void* dk, void* dv, int dt, int64_t b,
                           int64_t t, int64_t s, int64_t h, int64_t hkv, int64_t d, float scale);

// SwiGLU: out = silu(gate) up over n values; backward overwrites dGate, dUp.
int lwz_swiglu_forward(const void* gate, const void* up, void* out, int dt, int64_t n);
int lwz_swiglu_backward(const void* d_out, const void* gate, const void* up, void* d_gate, void* d_up, int dt, int64_t n);

// Softmax family over rows of (N, V). logprobs/lse/entropy/dLogprobs f32; targets i32 (< 0 = ignored row).
int lwz_softmax(const void* x, void* out, int dt, int64_t n, int64_t v, int log);
int lwz_token_logprobs_forward(const void* logits, const int32_t* targets, float* logprobs, float* lse, int dt, int64_t n, int64_t v);
int lwz_token_logprobs_backward(const float* d_logprobs, const void* logits, const int32_t* targets, const float* lse, void* d_logits,
                                int dt, int64_t n, int64_t v);
int lwz_entropy(const void* logits, float* entropy, int dt, int64_t n, int64_t v);

// Optimizer: f32 master weights and moments; grad f32 or bf16.
int lwz_adamw(float* param, const void* grad, int gdt, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
              float weight_decay, int step);
/** Sum of squares in float64 (synchronises). */
int lwz_sum_squares(const void* x, int dt, int64_t n, double* result);
/** Number of NaN / +-Inf values (synchronises): the overflow check of bf16 training. */
int lwz_count_nonfinite(const void* x, int dt, int64_t n, int64_t* result);

// Sampling, the exact rule of kernel-signatures.ts sampleForward, float64 probabilities. ids (N,) i32.
int lwz_sample(const void* logits, const float* uniforms, int32_t* ids, int dt, int64_t n, int64_t v, double temperature,
               int64_t top_k, double top_p);

#ifdef __cplusplus
}
#endif
