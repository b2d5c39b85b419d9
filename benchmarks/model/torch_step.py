#!/usr/bin/env python3
# PyTorch baseline for benchmarks/model (issue #4): the same Qwen2 decoder shape as our model (RMSNorm,
# q/k/v biases, rotate-half RoPE, GQA causal attention, SwiGLU MLP, tied lm_head), timed on CPU for one
# training step (forward + mean token NLL backward + AdamW) and a no-grad forward. Benchmark-only: run with
# the system python and Debian's python3-torch; never a project dependency.
# Prints one JSON line: {"train_ms", "forward_ms", "torch", "threads", "params"} (medians), and with
# --profile 1 also "profile": one more train step under torch.profiler, aten ops by self CPU time.
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def attention(q, k, v):
    """Causal softmax attention: PyTorch's fused kernel when it has one (>= 2.0), else the textbook form."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    T = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


class Decoder(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        C, D, H, Hkv = a.hidden, a.hidden // a.heads, a.heads, a.kv_heads
        self.embed = torch.nn.Parameter(torch.randn(a.vocab, C) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(a.layers):
            m = torch.nn.Module()
            m.ln1 = torch.nn.Parameter(torch.ones(C))
            m.q = torch.nn.Linear(C, H * D, bias=True)
            m.k = torch.nn.Linear(C, Hkv * D, bias=True)
            m.v = torch.nn.Linear(C, Hkv * D, bias=True)
            m.o = torch.nn.Linear(H * D, C, bias=False)
            m.ln2 = torch.nn.Parameter(torch.ones(C))
            m.gate = torch.nn.Linear(C, a.ffn, bias=False)
            m.up = torch.nn.Linear(C, a.ffn, bias=False)
            m.down = torch.nn.Linear(a.ffn, C, bias=False)
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(C))
        inv = a.rope_theta ** (-torch.arange(0, D, 2, dtype=torch.float32) / D)
        ang = torch.arange(a.T, dtype=torch.float32)[:, None] * inv[None, :]
        self.register_buffer("cos", torch.cat([ang.cos(), ang.cos()], -1))
        self.register_buffer("sin", torch.cat([ang.sin(), ang.sin()], -1))

    def rms(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def rope(self, x):  # x (B, heads, T, D)
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * self.cos + rot * self.sin

    def forward(self, ids):
        a = self.a
        B, T = ids.shape
        D = a.hidden // a.heads
        x = self.embed[ids]
        for m in self.layers:
            h = self.rms(x, m.ln1)
            q = self.rope(m.q(h).view(B, T, a.heads, D).transpose(1, 2))
            k = self.rope(m.k(h).view(B, T, a.kv_heads, D).transpose(1, 2))
            v = m.v(h).view(B, T, a.kv_heads, D).transpose(1, 2)
            rep = a.heads // a.kv_heads
            if rep > 1:
                k = k.repeat_interleave(rep, dim=1)
                v = v.repeat_interleave(rep, dim=1)
            att = attention(q, k, v)
            x = x + m.o(att.transpose(1, 2).reshape(B, T, a.heads * D))
            h = self.rms(x, m.ln2)
            x = x + m.down(F.silu(m.gate(h)) * m.up(h))
        return self.rms(x, self.norm) @ self.embed.t()  # (B, T, V)


def median_ms(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("kv_heads", 4), ("ffn", 1024), ("vocab", 4096),
                          ("B", 8), ("T", 256), ("threads", 2), ("iters", 5), ("warmup", 1), ("profile", 0)]:
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--rope_theta", type=float, default=10000.0)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Decoder(a)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, a.vocab, (a.B, a.T))

    def train():
        opt.zero_grad(set_to_none=False)
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        assert math.isfinite(loss.item())

    def forward():
        with torch.no_grad():
            model(ids)

    out = {
        "train_ms": median_ms(train, a.iters, a.warmup),
        "forward_ms": median_ms(forward, a.iters, a.warmup),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(t.numel() for t in model.parameters()),
    }
    if a.profile:
        out["profile"] = profile_step(train)
    print(json.dumps(out))


def profile_step(step):
    """One call of step under torch.profiler: [{name, calls, self_ms}] by self CPU time, largest first."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        step()
        wall = (time.perf_counter() - t0) * 1000
    rows = [{"name": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1000} for e in prof.key_averages()]
    rows.sort(key=lambda r: -r["self_ms"])
    return {"wall_ms": wall, "ops": rows}


if __name__ == "__main__":
    main()
