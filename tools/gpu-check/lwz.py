# ctypes binding of liblwz_cuda.so (libs/kernels/cuda/lwz_cuda.h) for the GPU check: our kernels called on
# PyTorch tensors (data_ptr), on PyTorch's current stream so both sides order and time alike. Storage dtype
# codes: 0 = float32, 1 = bfloat16. Every call raises with the library's message (it names the kernel).
# Not a PyTorch extension: no autograd, no shape checks beyond what the C API does.
import ctypes

import torch

P, I, L, F, D = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_float, ctypes.c_double

SIGNATURES = {
    "lwz_init": [I],
    "lwz_synchronize": [],
    "lwz_set_stream": [P],
    "lwz_set_option": [ctypes.c_char_p, ctypes.c_char_p],
    "lwz_matmul": [P, I, P, I, P, I, L, L, L, L, I, I, I, F, I],
    "lwz_add": [P, P, P, I, L, L],
    "lwz_mul": [P, P, P, I, L, L],
    "lwz_scale": [P, P, I, L, F, F],
    "lwz_sum_rows": [P, I, P, L, L, I],
    "lwz_copy": [P, I, P, I, L],
    "lwz_fill": [P, I, L, D],
    "lwz_embedding_forward": [P, P, P, I, L, L, L],
    "lwz_embedding_backward": [P, I, P, P, L, L, L],
    "lwz_rmsnorm_forward": [P, P, P, P, I, L, L, F],
    "lwz_add_rmsnorm_forward": [P, P, P, P, P, P, I, L, L, F],
    "lwz_rmsnorm_backward": [P, P, P, P, P, P, I, L, L],
    "lwz_rope": [P, P, P, I, L, L, L, L, D, I],
    "lwz_attention_forward": [P, P, P, P, P, P, P, I, L, L, L, L, L, L, F, I],
    "lwz_attention_backward": [P, P, P, P, P, P, P, P, P, P, P, I, L, L, L, L, L, L, F],
    "lwz_swiglu_forward": [P, P, P, I, L],
    "lwz_swiglu_backward": [P, P, P, P, P, I, L],
    "lwz_token_logprobs_forward": [P, P, P, P, I, L, L],
    "lwz_token_logprobs_backward": [P, P, P, P, P, I, L, L],
    "lwz_adamw": [P, P, I, P, P, L, F, F, F, F, F, I],
    "lwz_sample": [P, P, P, I, L, L, D, L, D],
}


def dt(t):
    if t.dtype == torch.float32:
        return 0
    if t.dtype == torch.bfloat16:
        return 1
    raise TypeError(f"lwz: storage must be float32 or bfloat16, got {t.dtype}")


def ptr(t):
    assert t.is_cuda and t.is_contiguous(), "lwz: tensors must be contiguous CUDA tensors"
    return t.data_ptr()


class Lwz:
    """The C API with torch tensors; method names drop the lwz_ prefix."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        for name, args in SIGNATURES.items():
            fn = getattr(self.lib, name)
            fn.argtypes = args
            fn.restype = I
        self.lib.lwz_last_error.restype = ctypes.c_char_p
        self.lib.lwz_describe.restype = ctypes.c_char_p
        self.lib.lwz_attention_status.restype = ctypes.c_char_p
        self.call("lwz_init", 0)
        stream = torch.cuda.current_stream().cuda_stream
        if stream == 0:
            # torch's legacy default stream has handle 0, which lwz_set_stream reads as "the backend's own stream"
            # (non-blocking): our kernels would then run unordered with PyTorch's, and CUDA events would not time them
            raise RuntimeError("lwz: create Lwz on a non-default torch stream (torch.cuda.set_stream(torch.cuda.Stream()))")
        self.call("lwz_set_stream", stream)
        self.description = self.lib.lwz_describe().decode()
        self.attention_status = self.lib.lwz_attention_status().decode()

    def call(self, name, *args):
        if getattr(self.lib, name)(*args) != 0:
            raise RuntimeError(self.lib.lwz_last_error().decode())

    def option(self, name, value):
        self.call("lwz_set_option", name.encode(), value.encode())

    def matmul(self, a, b, out, trans_a=False, trans_b=False, alpha=1.0, accumulate=False):
        """out (M, N) = alpha op(a) op(b) (+ out), 2-D row-major operands."""
        m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
        n = b.shape[0] if trans_b else b.shape[1]
        assert out.shape == (m, n), (out.shape, m, n)
        self.call("lwz_matmul", ptr(a), dt(a), ptr(b), dt(b), ptr(out), dt(out), 1, m, n, k, 1, int(trans_a), int(trans_b), alpha,
                  int(accumulate))

    def add(self, a, b, out):
        self.call("lwz_add", ptr(a), ptr(b), ptr(out), dt(a), a.numel(), b.numel())

    def copy(self, src, out):
        self.call("lwz_copy", ptr(src), dt(src), ptr(out), dt(out), src.numel())

    def sum_rows(self, a, out, accumulate=True):
        self.call("lwz_sum_rows", ptr(a), dt(a), ptr(out), a.numel() // out.numel(), out.numel(), int(accumulate))

    def embedding(self, table, ids, out):
        self.call("lwz_embedding_forward", ptr(table), ptr(ids), ptr(out), dt(out), ids.numel(), table.shape[1], table.shape[0])

    def embedding_backward(self, d_out, ids, d_table):
        self.call("lwz_embedding_backward", ptr(d_out), dt(d_out), ptr(ids), ptr(d_table), ids.numel(), d_table.shape[1],
                  d_table.shape[0])

    def rmsnorm(self, x, w, y, rstd, eps=1e-6):
        self.call("lwz_rmsnorm_forward", ptr(x), ptr(w), ptr(y), ptr(rstd), dt(x), rstd.numel(), w.numel(), eps)

    def add_rmsnorm(self, x, residual, h, w, y, rstd, eps=1e-6):
        self.call("lwz_add_rmsnorm_forward", ptr(x), ptr(residual), ptr(h), ptr(w), ptr(y), ptr(rstd), dt(x), rstd.numel(), w.numel(),
                  eps)

    def rmsnorm_backward(self, dy, x, w, rstd, dx, dw):
        self.call("lwz_rmsnorm_backward", ptr(dy), ptr(x), ptr(w), ptr(rstd), ptr(dx), ptr(dw), dt(x), rstd.numel(), w.numel())

    def rope(self, x, positions, theta, inverse=False):
        """In place on x (B, T, H, D); positions (B, T) int32."""
        b, t, h, d = x.shape
        self.call("lwz_rope", ptr(x), ptr(positions), ptr(x), dt(x), b, t, h, d, theta, int(inverse))

    def attention(self, q, k, v, q_offset, kv_start, out, lse, head_major=False):
        """k/v (B, S, Hkv, D), or (B, Hkv, S, D) when head_major (the KV cache's layout)."""
        b, t, h, d = q.shape
        s, hkv = (k.shape[2], k.shape[1]) if head_major else (k.shape[1], k.shape[2])
        self.call("lwz_attention_forward", ptr(q), ptr(k), ptr(v), ptr(q_offset), ptr(kv_start), ptr(out), ptr(lse), dt(q), b, t, s, h,
                  hkv, d, d ** -0.5, int(head_major))

    def attention_backward(self, q, k, v, q_offset, kv_start, out, lse, d_out, dq, dk, dv):
        b, t, h, d = q.shape
        s, hkv = k.shape[1], k.shape[2]
        self.call("lwz_attention_backward", ptr(q), ptr(k), ptr(v), ptr(q_offset), ptr(kv_start), ptr(out), ptr(lse), ptr(d_out),
                  ptr(dq), ptr(dk), ptr(dv), dt(q), b, t, s, h, hkv, d, d ** -0.5)

    def swiglu(self, gate, up, out):
        self.call("lwz_swiglu_forward", ptr(gate), ptr(up), ptr(out), dt(gate), gate.numel())

    def swiglu_backward(self, d_out, gate, up, d_gate, d_up):
        self.call("lwz_swiglu_backward", ptr(d_out), ptr(gate), ptr(up), ptr(d_gate), ptr(d_up), dt(gate), gate.numel())

    def token_logprobs(self, logits, targets, logprobs, lse):
        n, v = logits.shape
        self.call("lwz_token_logprobs_forward", ptr(logits), ptr(targets), ptr(logprobs), ptr(lse), dt(logits), n, v)

    def token_logprobs_backward(self, d_logprobs, logits, targets, lse, d_logits):
        n, v = logits.shape
        self.call("lwz_token_logprobs_backward", ptr(d_logprobs), ptr(logits), ptr(targets), ptr(lse), ptr(d_logits), dt(logits), n, v)

    def adamw(self, param, grad, m, v, lr, step, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1):
        self.call("lwz_adamw", ptr(param), ptr(grad), dt(grad), ptr(m), ptr(v), param.numel(), lr, beta1, beta2, eps, weight_decay, step)

    def sample(self, logits, uniforms, ids, temperature, top_k=0, top_p=1.0):
        n, v = logits.shape
        self.call("lwz_sample", ptr(logits), ptr(uniforms), ptr(ids), dt(logits), n, v, temperature, top_k, top_p)
