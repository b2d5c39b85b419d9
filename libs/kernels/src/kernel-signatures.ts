// The kernel contract: every backend implements these signatures, `ref` is the truth. Kernels write into
// outputs the caller allocated (ops/*.ts allocate and dispatch); they never allocate tensors themselves.
// Shape glossary: B batch, T query tokens, S key tokens (KV prefix + T), H query heads, Hkv key/value heads
// (H % Hkv == 0), D head dim, C channels, F ffn width, N rows (B*T flattened), V vocab, M/K/Nc GEMM sizes.
import type { KvLayout } from './kv-layout';
import type { Tensor } from './tensor';

export interface MatmulArgs {
  /** (M, K), or (K, M) when transA; may carry a leading batch dim (Bt, ., .) */
  a: Tensor;
  /** (K, Nc), or (Nc, K) when transB; batched like `a`, or 2-D and shared by every batch */
  b: Tensor;
  /** (M, Nc) or (Bt, M, Nc) */
  out: Tensor;
  transA: boolean;
  transB: boolean;
  /** out = alpha * op(a) @ op(b) + (accumulate ? out : 0) */
  alpha: number;
  accumulate: boolean;
  /**
   * op(b) already packed for this backend's GEMM (ops/packed.ts: cpu only). A speed hint: backends without a
   * packed form, and the cpu GEMV or a layout gone stale, read `b` as usual; the result is the same.
   */
  packedB?: PackedMatrix;
}

/** op(b) of a matmul packed once into the cpu GEMM's panel layout (ops/packed.ts makes it). */
export interface PackedMatrix {
  /** the matrix packed, as given to packMatmulB (only matmul calls with this very b may use it) */
  readonly source: Tensor;
  readonly transB: boolean;
  /** the panels (f32, cpu) */
  readonly data: Tensor;
  /** depth per slice and panel width of the layout, checked against the GEMM's at each call */
  readonly kc: number;
  readonly nr: number;
}

export interface ElementwiseArgs {
  a: Tensor;
  /** same size as `a`, or a suffix-broadcast (its size divides a's: e.g. a bias (C,) against (N, C)) */
  b: Tensor;
  out: Tensor;
}

export interface AttentionArgs {
  q: Tensor; // (B, T, H, D)
  k: Tensor; // (B, S, Hkv, D), or (B, Hkv, S, D) when kvLayout is 'bhsd'
  v: Tensor; // the same shape as k
  /**
   * (B,) i32: absolute key index of query 0 in each row: query i sees keys j with kvStart[b] <= j <= qOffset[b] + i.
   * For plain causal self-attention qOffset = 0; with a KV prefix of length P, qOffset = P.
   */
  qOffset: Tensor;
  /** (B,) i32: first valid key per row (left padding); 0 when rows are not left-padded */
  kvStart: Tensor;
  scale: number; // usually 1 / sqrt(D)
  /** k/v layout: 'bshd' (B, S, Hkv, D) or head-major 'bhsd' (B, Hkv, S, D), the KV cache's (forward only) */
  kvLayout: KvLayout;
}

export interface KernelSignatures {
  /**
   * out = src, element for element: src and out have the same dtype (f32 or i32) and size, any shapes, and
   * do not overlap (ops/copy.ts checks). Either may be a view (storage + offset) of a larger tensor: the
   * way the KV cache moves rows and the model copies activations on every backend.
   */
  copyForward(args: { src: Tensor; out: Tensor }): void;
  /**
   * out[b, h, at[b] + t, :] = src[b, t, h, :] for b < B, t < T, h < heads: src (B, T, heads, E) into out
   * (B, heads, S, E), E values per (position, head), at (B,) host integers with 0 <= at[b] <= S - T (ops/copy.ts
   * checks). heads = 1 is the plain append of (B, T, E...) into (B, S, E...). Same dtype, no overlap; either may
   * be a view. The KV cache's append (head-major: heads = Hkv): one call per layer and tensor, not one per row.
   */
  copyAtForward(args: { src: Tensor; out: Tensor; at: Int32Array; heads: number }): void;
  /** out[i] = value for every element (f32, or i32 with an integer value). Overwrites NaN too. */
  fillForward(args: { out: Tensor; value: number }): void;

  /** out = alpha * op(a) @ op(b) (+ out). Packed GEMM for large shapes, GEMV when M = 1. */
  matmulForward(args: MatmulArgs): void;

  /** out = a + b (b may suffix-broadcast). */
  addForward(args: ElementwiseArgs): void;
  /** out = a * b (b may suffix-broadcast). */
  mulForward(args: ElementwiseArgs): void;
  /** out = alpha * a + beta * out (beta = 0 ignores out's old contents; used for scale and axpy). */
  scaleForward(args: { a: Tensor; out: Tensor; alpha: number; beta: number }): void;
  /** out[c] (+)= sum over rows of a[r, c]: reduces a (N, C) to (C,); the backward of a broadcast add. */
  sumRowsForward(args: { a: Tensor; out: Tensor; accumulate: boolean }): void;

  /** out[n, :] = table[ids[n], :]. table (V, C) f32, ids (N,) i32, out (N, C). Ids out of range throw. */
  embeddingForward(args: { table: Tensor; ids: Tensor; out: Tensor }): void;
  /** dTable[ids[n], :] += dOut[n, :] (scatter-add; repeated ids accumulate). */
  embeddingBackward(args: { dOut: Tensor; ids: Tensor; dTable: Tensor }): void;

  /** y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps). x (N, C), w (C,), y (N, C), rstd (N,) saved. */
  rmsnormForward(args: { x: Tensor; w: Tensor; eps: number; y: Tensor; rstd: Tensor }): void;
  /** dx = overwritten; dw += accumulated over rows. */
  rmsnormBackward(args: { dy: Tensor; x: Tensor; w: Tensor; rstd: Tensor; dx: Tensor; dw: Tensor }): void;

  /**
   * Rotary embedding, Hugging Face rotate-half convention: for i < D/2, with angle = pos * theta^(-2i/D),
   * y[i] = x[i] cos - x[i + D/2] sin, y[i + D/2] = x[i + D/2] cos + x[i] sin.
   * x and out (B, T, H, D) (in place allowed), positions (B, T) i32 (any offset). `inverse` applies the
   * transpose rotation (the backward pass).
   */
  ropeForward(args: { x: Tensor; positions: Tensor; theta: number; out: Tensor; inverse: boolean }): void;

  /**
   * Causal grouped-query attention with an optional KV prefix, flash-style (online softmax, O(T) memory per
   * head: never a (T, S) score matrix). out (B, T, H, D); lse (B, H, T) = log-sum-exp of scaled scores,
   * saved for the backward pass. A query with no visible key gets out = 0 and lse = -Infinity.
   */
  attentionForward(args: AttentionArgs & { out: Tensor; lse: Tensor }): void;
  /** dq, dk, dv overwritten (same shapes as q, k, v). Recomputes scores tile by tile from lse. */
  attentionBackward(args: AttentionArgs & { out: Tensor; lse: Tensor; dOut: Tensor; dq: Tensor; dk: Tensor; dv: Tensor }): void;

  /** out = silu(gate) * up, silu(x) = x / (1 + exp(-x)). gate, up, out (N, F). */
  swigluForward(args: { gate: Tensor; up: Tensor; out: Tensor }): void;
  /** dGate, dUp overwritten. */
  swigluBackward(args: { dOut: Tensor; gate: Tensor; up: Tensor; dGate: Tensor; dUp: Tensor }): void;

  /** Row-wise softmax (log: log-softmax) of x (N, V) into out (N, V). */
  softmaxForward(args: { x: Tensor; out: Tensor; log: boolean }): void;

  /**
   * Chosen-token log-probs: logprobs[n] = logits[n, targets[n]] - lse[n]; lse (N,) saved. logits (N, V) are a
   * chunk of rows (callers chunk the sequence so full (T, V) logits are never kept). Targets < 0 are
   * ignored rows (logprob 0).
   */
  tokenLogprobsForward(args: { logits: Tensor; targets: Tensor; logprobs: Tensor; lse: Tensor }): void;
  /**
   * dLogits[n, v] = dLogprobs[n] * (onehot(targets[n])[v] - softmax(logits[n])[v]). The per-token loss weight
   * (mask, GRPO advantage) arrives through dLogprobs. Overwrites dLogits (may alias logits).
   */
  tokenLogprobsBackward(args: { dLogprobs: Tensor; logits: Tensor; targets: Tensor; lse: Tensor; dLogits: Tensor }): void;
  /** entropy[n] = -sum_v p log p of softmax(logits[n]). logits (N, V), entropy (N,). */
  entropyForward(args: { logits: Tensor; entropy: Tensor }): void;

  /**
   * AdamW on flat buffers, in place (decoupled weight decay, bias-corrected moments):
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (mhat / (sqrt(vhat) + eps) + wd p), step >= 1.
   */
  adamwStep(args: {
    param: Tensor;
    grad: Tensor;
    m: Tensor;
    v: Tensor;
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    step: number;
  }): void;
  /** sum of squares of x (float64 accumulation), for global-norm clipping. */
  sumSquares(args: { x: Tensor }): number;

  /**
   * Sample one token per row from softmax(logits / temperature) restricted to the top-k (0 = all) and to the
   * smallest set with probability >= topP (1 = all). temperature 0 = greedy (argmax, lowest index on ties).
   * uniforms (N,) f32 in [0, 1) drive the choice (so results are reproducible across backends). ids (N,) i32.
   * Exact rule (every backend): p = softmax(logits / temperature); rank tokens by p descending, lower index
   * first on ties; keep the first min(topK, V) (all when topK = 0); of those keep the shortest prefix whose
   * mass is >= topP times the kept mass (at least one token); then walk the kept tokens in ASCENDING INDEX
   * order summing p and return the first whose running sum exceeds u * (kept mass), else the last kept.
   * Float64. ref and cpu hold p unnormalised as e^(x / t - max), x / t divided once and one exponential a value
   * (every comparison is between sums of these, so 1 / sum is never needed), sums in ascending index order: the
   * same operations in the same order. They still differ where C's exp and JavaScript's Math.exp round apart (one
   * ulp, for 196,133 of 2 M arguments in [-40, 0] on glibc and Node 20), so an id can differ when a uniform lies
   * within about 1e-16 of a boundary; cuda's block-wide sums round differently too (the same rule). A row with no
   * finite maximum or a NaN logit is greedy.
   */
  sampleForward(args: { logits: Tensor; uniforms: Tensor; temperature: number; topK: number; topP: number; ids: Tensor }): void;
}
