# The Qwen2 decoder on our CUDA kernels for the GPU check: one training step (forward, chunked chosen-token
# log-probs, backward, AdamW) written op by op as libs/model/src/layer.ts does it, and a KV-cache decode step.
# Storage: f32 master weights, AdamW moments and gradients; bf16 weight copies (refreshed every step) and
# bf16 activations; products on bf16 tensor cores with f32 accumulation. Buffers are PyTorch tensors; every
# computation is one of our kernels (except the KV-cache row write of decode, a torch copy on both sides).
import torch

F32, I32 = torch.float32, torch.int32
# activation storage and device; selftest.py runs this file's logic in float32 on the CPU against PyTorch
BF16, DEVICE = torch.bfloat16, "cuda"


def configure(act_dtype, device):
    global BF16, DEVICE
    BF16, DEVICE = act_dtype, device


def _names(layers):
    names = ["embed"]
    for i in range(layers):
        p = f"layers.{i}."
        names += [p + n for n in ["ln1", "q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "o.weight", "ln2",
                                  "gate.weight", "up.weight", "down.weight"]]
    return names + ["norm"]


class OurQwen:
    """Weights cloned from a torch Decoder (benchmarks/model/torch_step.py), so both start equal."""

    def __init__(self, lwz, torch_model, a):
        self.k, self.a = lwz, a
        params = dict(torch_model.named_parameters())
        self.names = _names(a.layers)
        self.master = {n: params[n].detach().float().contiguous().clone() for n in self.names}
        self.w16 = {n: torch.empty_like(t, dtype=BF16) for n, t in self.master.items()}
        self.grad = {n: torch.zeros_like(t) for n, t in self.master.items()}
        self.m = {n: torch.zeros_like(t) for n, t in self.master.items()}
        self.v = {n: torch.zeros_like(t) for n, t in self.master.items()}
        self.step_count = 0

    def refresh(self):
        for n in self.names:
            self.k.copy(self.master[n], self.w16[n])
            self.grad[n].zero_()

    def linear(self, x, name, out=None, accumulate=False):
        """out (N, out) (+)= x W^T (+ b)."""
        w = self.w16[name + ".weight"]
        out = out if out is not None else torch.empty(x.shape[0], w.shape[0], dtype=BF16, device=DEVICE)
        self.k.matmul(x, w, out, trans_b=True, accumulate=accumulate)
        if name + ".bias" in self.w16:
            self.k.add(out, self.w16[name + ".bias"], out)
        return out

    def linear_backward(self, dy, x, name, dx, accumulate):
        """dx (+)= dy W; dW += dy^T x; db += column sums of dy."""
        self.k.matmul(dy, self.w16[name + ".weight"], dx, accumulate=accumulate)
        self.k.matmul(dy, x, self.grad[name + ".weight"], trans_a=True, accumulate=True)
        if name + ".bias" in self.grad:
            self.k.sum_rows(dy, self.grad[name + ".bias"])

    def forward(self, ids, targets, chunk=1024):
        """ids, targets (T,) int32 (target -1 = ignored); returns the mean NLL (a 0-d tensor), keeps activations."""
        a, k = self.a, self.k
        T, C, H, Hkv, D = ids.numel(), a.hidden, a.heads, a.kv_heads, a.hidden // a.heads
        self.pos = torch.arange(T, dtype=I32, device=DEVICE).view(1, T)
        self.qoff = torch.zeros(1, dtype=I32, device=DEVICE)
        self.kvs = torch.zeros(1, dtype=I32, device=DEVICE)
        x = torch.empty(T, C, dtype=BF16, device=DEVICE)
        k.embedding(self.w16["embed"], ids, x)
        self.acts = []
        for i in range(a.layers):
            p = f"layers.{i}."
            s = {"x": x, "h1": torch.empty_like(x), "rstd1": torch.empty(T, dtype=F32, device=DEVICE)}
            k.rmsnorm(x, self.w16[p + "ln1"], s["h1"], s["rstd1"])
            s["q"] = self.linear(s["h1"], p + "q").view(1, T, H, D)
            s["k"] = self.linear(s["h1"], p + "k").view(1, T, Hkv, D)
            s["v"] = self.linear(s["h1"], p + "v").view(1, T, Hkv, D)
            k.rope(s["q"], self.pos, a.rope_theta)
            k.rope(s["k"], self.pos, a.rope_theta)
            s["attn"] = torch.empty(1, T, H, D, dtype=BF16, device=DEVICE)
            s["lse"] = torch.empty(1, H, T, dtype=F32, device=DEVICE)
            k.attention(s["q"], s["k"], s["v"], self.qoff, self.kvs, s["attn"], s["lse"])
            o = self.linear(s["attn"].view(T, H * D), p + "o")
            s["x2"], s["h2"], s["rstd2"] = torch.empty_like(x), torch.empty_like(x), torch.empty(T, dtype=F32, device=DEVICE)
            k.add_rmsnorm(x, o, s["x2"], self.w16[p + "ln2"], s["h2"], s["rstd2"])
            s["g"], s["u"] = self.linear(s["h2"], p + "gate"), self.linear(s["h2"], p + "up")
            s["a"] = torch.empty_like(s["g"])
            k.swiglu(s["g"], s["u"], s["a"])
            x = s["x2"].clone()
            self.linear(s["a"], p + "down", out=x, accumulate=True)
            self.acts.append(s)
        self.x_last, self.xf, self.rstdf = x, torch.empty_like(x), torch.empty(T, dtype=F32, device=DEVICE)
        k.rmsnorm(x, self.w16["norm"], self.xf, self.rstdf)
        self.ids, self.targets, self.chunk = ids, targets, chunk
        self.logprobs, self.lse = torch.empty(T, dtype=F32, device=DEVICE), torch.empty(T, dtype=F32, device=DEVICE)
        self.logits = torch.empty(chunk, self.w16["embed"].shape[0], dtype=BF16, device=DEVICE)
        for r0 in range(0, T, chunk):
            n = min(chunk, T - r0)
            lg = self.logits[:n]
            k.matmul(self.xf[r0:r0 + n], self.w16["embed"], lg, trans_b=True)
            k.token_logprobs(lg, targets[r0:r0 + n], self.logprobs[r0:r0 + n], self.lse[r0:r0 + n])
        if getattr(self, "counted", None) is not targets:  # one host sync per targets tensor, not per step
            self.count, self.counted = int((targets >= 0).sum().item()), targets
        return -self.logprobs.sum() / self.count

    def backward(self):
        a, k = self.a, self.k
        T, C, H, Hkv, D = self.ids.numel(), a.hidden, a.heads, a.kv_heads, a.hidden // a.heads
        dlp = torch.full((T,), -1.0 / self.count, dtype=F32, device=DEVICE)
        dxf = torch.empty(T, C, dtype=BF16, device=DEVICE)
        for r0 in range(0, T, self.chunk):
            n = min(self.chunk, T - r0)
            lg = self.logits[:n]
            k.matmul(self.xf[r0:r0 + n], self.w16["embed"], lg, trans_b=True)
            k.token_logprobs_backward(dlp[r0:r0 + n], lg, self.targets[r0:r0 + n], self.lse[r0:r0 + n], lg)
            k.matmul(lg, self.w16["embed"], dxf[r0:r0 + n])
            k.matmul(lg, self.xf[r0:r0 + n], self.grad["embed"], trans_a=True, accumulate=True)
        dout = torch.empty_like(dxf)
        k.rmsnorm_backward(dxf, self.x_last, self.w16["norm"], self.rstdf, dout, self.grad["norm"])
        dxn = torch.empty_like(dxf)
        for i in reversed(range(a.layers)):
            p, s = f"layers.{i}.", self.acts[i]
            da = torch.empty_like(s["a"])
            self.linear_backward(dout, s["a"], p + "down", da, accumulate=False)
            dg, du = torch.empty_like(s["g"]), torch.empty_like(s["u"])
            k.swiglu_backward(da, s["g"], s["u"], dg, du)
            dh2 = torch.empty_like(dxf)
            self.linear_backward(dg, s["h2"], p + "gate", dh2, accumulate=False)
            self.linear_backward(du, s["h2"], p + "up", dh2, accumulate=True)
            k.rmsnorm_backward(dh2, s["x2"], self.w16[p + "ln2"], s["rstd2"], dxn, self.grad[p + "ln2"])
            k.add(dout, dxn, dout)
            dattn = torch.empty(1, T, H, D, dtype=BF16, device=DEVICE)
            self.linear_backward(dout, s["attn"].view(T, H * D), p + "o", dattn.view(T, H * D), accumulate=False)
            dq, dk, dv = torch.empty_like(s["q"]), torch.empty_like(s["k"]), torch.empty_like(s["v"])
            k.attention_backward(s["q"], s["k"], s["v"], self.qoff, self.kvs, s["attn"], s["lse"], dattn, dq, dk, dv)
            k.rope(dq, self.pos, a.rope_theta, inverse=True)
            k.rope(dk, self.pos, a.rope_theta, inverse=True)
            dh1 = torch.empty_like(dxf)
            self.linear_backward(dq.view(T, H * D), s["h1"], p + "q", dh1, accumulate=False)
            self.linear_backward(dk.view(T, Hkv * D), s["h1"], p + "k", dh1, accumulate=True)
            self.linear_backward(dv.view(T, Hkv * D), s["h1"], p + "v", dh1, accumulate=True)
            k.rmsnorm_backward(dh1, s["x"], self.w16[p + "ln1"], s["rstd1"], dxn, self.grad[p + "ln1"])
            k.add(dout, dxn, dout)
        k.embedding_backward(dout, self.ids, self.grad["embed"])
        self.acts = []

    def optimizer_step(self, lr=1e-4):
        self.step_count += 1
        for n in self.names:
            self.k.adamw(self.master[n], self.grad[n], self.m[n], self.v[n], lr, self.step_count)

    def train_step(self, ids, targets):
        self.refresh()
        loss = self.forward(ids, targets)
        self.backward()
        self.optimizer_step()
        return loss

    # ---- decoding ----
    def new_cache(self, batch, length):
        a = self.a
        D = a.hidden // a.heads
        shape = (batch, a.kv_heads, length, D)  # head-major, as libs/model's KvCache (#10)
        return [(torch.randn(shape, dtype=BF16, device=DEVICE), torch.randn(shape, dtype=BF16, device=DEVICE)) for _ in range(a.layers)]

    def decode_step(self, tokens, cache, position, uniforms, temperature=0.8):
        """tokens (B,) int32 at `position`; cache rows < position are the context; returns sampled ids (B,)."""
        a, k = self.a, self.k
        B, C, H, Hkv, D = tokens.numel(), a.hidden, a.heads, a.kv_heads, a.hidden // a.heads
        pos = torch.full((B, 1), position, dtype=I32, device=DEVICE)
        qoff = torch.full((B,), position, dtype=I32, device=DEVICE)
        kvs = torch.zeros(B, dtype=I32, device=DEVICE)
        x = torch.empty(B, C, dtype=BF16, device=DEVICE)
        k.embedding(self.w16["embed"], tokens, x)
        h, rstd = torch.empty_like(x), torch.empty(B, dtype=F32, device=DEVICE)
        x2, attn = torch.empty_like(x), torch.empty(B, 1, H, D, dtype=BF16, device=DEVICE)
        lse = torch.empty(B, H, 1, dtype=F32, device=DEVICE)
        for i in range(a.layers):
            p = f"layers.{i}."
            k.rmsnorm(x, self.w16[p + "ln1"], h, rstd)
            q = self.linear(h, p + "q").view(B, 1, H, D)
            kk = self.linear(h, p + "k").view(B, 1, Hkv, D)
            vv = self.linear(h, p + "v").view(B, 1, Hkv, D)
            k.rope(q, pos, a.rope_theta)
            k.rope(kk, pos, a.rope_theta)
            ck, cv = cache[i]
            ck[:, :, position].copy_(kk[:, 0])
            cv[:, :, position].copy_(vv[:, 0])
            k.attention(q, ck, cv, qoff, kvs, attn, lse, head_major=True)  # keys past `position` are masked, never read
            o = self.linear(attn.view(B, H * D), p + "o")
            k.add_rmsnorm(x, o, x2, self.w16[p + "ln2"], h, rstd)
            g, u = self.linear(h, p + "gate"), self.linear(h, p + "up")
            k.swiglu(g, u, g)
            x.copy_(x2)
            self.linear(g, p + "down", out=x, accumulate=True)
        k.rmsnorm(x, self.w16["norm"], h, rstd)
        logits = torch.empty(B, self.w16["embed"].shape[0], dtype=BF16, device=DEVICE)
        k.matmul(h, self.w16["embed"], logits, trans_b=True)
        ids = torch.empty(B, dtype=I32, device=DEVICE)
        k.sample(logits, uniforms, ids, temperature)
        return ids


def torch_decode_step(model, w16, tokens, cache, position, temperature=0.8, greedy=False):
    """The same decode step in PyTorch (bf16 weights w16 by name, SDPA over a (B, Hkv, S, D) cache)."""
    import torch.nn.functional as F

    a = model.a
    B, H, Hkv, D = tokens.numel(), a.heads, a.kv_heads, a.hidden // a.heads
    inv = a.rope_theta ** (-torch.arange(0, D, 2, dtype=F32, device=DEVICE) / D)
    ang = position * inv
    cos, sin = torch.cat([ang.cos(), ang.cos()]).to(BF16), torch.cat([ang.sin(), ang.sin()]).to(BF16)

    def rms(x, w):
        xf = x.float()
        return (w.float() * xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).to(BF16)

    def rope(x):
        half = D // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin

    def lin(x, name):
        y = x @ w16[name + ".weight"].t()
        return y + w16[name + ".bias"] if name + ".bias" in w16 else y

    x = w16["embed"][tokens.long()]
    for i in range(a.layers):
        p = f"layers.{i}."
        h = rms(x, w16[p + "ln1"])
        q = rope(lin(h, p + "q").view(B, H, 1, D))
        kk = rope(lin(h, p + "k").view(B, Hkv, 1, D))
        ck, cv = cache[i]
        ck[:, :, position] = kk[:, :, 0]
        cv[:, :, position] = lin(h, p + "v").view(B, Hkv, D)
        keys, values = ck[:, :, : position + 1], cv[:, :, : position + 1]
        if hasattr(F, "scaled_dot_product_attention"):
            try:
                att = F.scaled_dot_product_attention(q, keys, values, enable_gqa=True)
            except TypeError:  # torch < 2.5
                att = F.scaled_dot_product_attention(q, keys.repeat_interleave(H // Hkv, 1), values.repeat_interleave(H // Hkv, 1))
        else:  # torch < 2.0 (the CPU self-test)
            kr, vr = keys.repeat_interleave(H // Hkv, 1), values.repeat_interleave(H // Hkv, 1)
            att = torch.softmax(q @ kr.transpose(-1, -2) * D**-0.5, -1) @ vr
        x = x + lin(att.reshape(B, H * D), p + "o")
        h = rms(x, w16[p + "ln2"])
        x = x + lin(F.silu(lin(h, p + "gate")) * lin(h, p + "up"), p + "down")
    logits = rms(x, w16["norm"]) @ w16["embed"].t()
    if greedy:
        return logits.argmax(-1).to(I32)
    return torch.multinomial(torch.softmax(logits.float() / temperature, -1), 1).view(-1)
