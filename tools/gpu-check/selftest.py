#!/usr/bin/env python3
# CPU self-test of the GPU check's Python half, for machines without a GPU (run it before spending device time):
# a float64 PyTorch stand-in for liblwz_cuda (same methods as lwz.Lwz, written from lwz_cuda.h's contract)
# drives qwen.OurQwen's training step on a tiny Qwen2 shape, and its loss and every gradient must match the
# PyTorch Decoder of benchmarks/model/torch_step.py (autograd) to float32 precision; decode steps must run.
# Checks the op sequence and index math of qwen.py, not the CUDA kernels (the lab does that on the GPU).
#   usage: python3 tools/gpu-check/selftest.py   (any PyTorch >= 1.12, CPU only)
import os
import sys
from types import SimpleNamespace

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../../benchmarks/model"))
import qwen  # noqa: E402
from torch_step import Decoder  # noqa: E402

D64 = torch.float64


def put(out, value):
    out.copy_(value.to(out.dtype).view(out.shape))


class TorchLwz:
    """liblwz_cuda's contract in float64 PyTorch (CPU)."""

    description = "selftest stand-in"

    def option(self, name, value):
        pass

    def matmul(self, a, b, out, trans_a=False, trans_b=False, alpha=1.0, accumulate=False):
        oa, ob = (a.t() if trans_a else a).to(D64), (b.t() if trans_b else b).to(D64)
        put(out, alpha * oa @ ob + (out.to(D64) if accumulate else 0))

    def add(self, a, b, out):
        put(out, (a.to(D64).view(-1, b.numel()) + b.to(D64).view(1, -1)))

    def copy(self, src, out):
        put(out, src)

    def sum_rows(self, a, out, accumulate=True):
        put(out, a.to(D64).view(-1, out.numel()).sum(0) + (out.to(D64) if accumulate else 0))

    def embedding(self, table, ids, out):
        put(out, table[ids.long()])

    def embedding_backward(self, d_out, ids, d_table):
        d_table.index_add_(0, ids.long(), d_out.to(d_table.dtype).view(ids.numel(), -1))

    def rmsnorm(self, x, w, y, rstd, eps=1e-6):
        xd = x.to(D64)
        r = torch.rsqrt(xd.pow(2).mean(-1) + eps)
        put(rstd, r)
        put(y, xd * r[:, None] * w.to(D64))

    def add_rmsnorm(self, x, residual, h, w, y, rstd, eps=1e-6):
        put(h, x.to(D64) + residual.to(D64))
        self.rmsnorm(h, w, y, rstd, eps)

    def rmsnorm_backward(self, dy, x, w, rstd, dx, dw):
        dyd, xd, wd, r = dy.to(D64), x.to(D64), w.to(D64), rstd.to(D64)[:, None]
        dot = (dyd * wd * xd).sum(-1, keepdim=True)
        put(dw, dw.to(D64) + (dyd * xd * r).sum(0))
        put(dx, r * dyd * wd - r**3 * dot / x.shape[-1] * xd)

    def rope(self, x, positions, theta, inverse=False):
        b, t, h, d = x.shape
        inv = theta ** (-torch.arange(0, d, 2, dtype=D64) / d)
        ang = positions.to(D64).view(b, t, 1, 1) * inv.view(1, 1, 1, -1)
        c, s = ang.cos(), ang.sin() * (-1 if inverse else 1)
        x1, x2 = x[..., : d // 2].to(D64), x[..., d // 2 :].to(D64)
        put(x, torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1))

    def _scores(self, q, k, q_offset, kv_start):
        b, t, h, d = q.shape
        s, hkv = k.shape[1], k.shape[2]
        kr = k.to(D64).repeat_interleave(h // hkv, 2)  # (B, S, H, D)
        sc = torch.einsum("bthd,bshd->bhts", q.to(D64), kr) * d**-0.5
        i = torch.arange(t).view(1, t, 1)
        j = torch.arange(s).view(1, 1, s)
        visible = (j >= kv_start.view(b, 1, 1)) & (j <= q_offset.view(b, 1, 1) + i)  # (B, T, S)
        return sc.masked_fill(~visible[:, None], float("-inf"))

    def attention(self, q, k, v, q_offset, kv_start, out, lse, head_major=False):
        if head_major:  # (B, Hkv, S, D) -> (B, S, Hkv, D)
            k, v = k.transpose(1, 2), v.transpose(1, 2)
        sc = self._scores(q, k, q_offset, kv_start)
        lse_d = torch.logsumexp(sc, -1)  # (B, H, T)
        p = torch.exp(sc - lse_d[..., None]).nan_to_num(0.0)
        vr = v.to(D64).repeat_interleave(q.shape[2] // v.shape[2], 2)
        put(out, torch.einsum("bhts,bshd->bthd", p, vr))
        put(lse, lse_d)

    def attention_backward(self, q, k, v, q_offset, kv_start, out, lse, d_out, dq, dk, dv):
        qd, kd, vd = (x.to(D64).requires_grad_() for x in (q, k, v))
        sc = self._scores(qd, kd, q_offset, kv_start)
        p = torch.softmax(sc, -1).nan_to_num(0.0)
        o = torch.einsum("bhts,bshd->bthd", p, vd.repeat_interleave(q.shape[2] // v.shape[2], 2))
        gq, gk, gv = torch.autograd.grad(o, (qd, kd, vd), d_out.to(D64))
        put(dq, gq)
        put(dk, gk)
        put(dv, gv)

    def swiglu(self, gate, up, out):
        put(out, F.silu(gate.to(D64)) * up.to(D64))

    def swiglu_backward(self, d_out, gate, up, d_gate, d_up):
        g, u, d = gate.to(D64), up.to(D64), d_out.to(D64)
        sg = torch.sigmoid(g)
        put(d_gate, d * u * sg * (1 + g * (1 - sg)))
        put(d_up, d * g * sg)

    def token_logprobs(self, logits, targets, logprobs, lse):
        ld = logits.to(D64)
        l = torch.logsumexp(ld, -1)
        t = targets.long()
        picked = ld.gather(1, t.clamp_min(0)[:, None])[:, 0] - l
        put(lse, l)
        put(logprobs, torch.where(t >= 0, picked, torch.zeros_like(picked)))

    def token_logprobs_backward(self, d_logprobs, logits, targets, lse, d_logits):
        t = targets.long()
        p = torch.exp(logits.to(D64) - lse.to(D64)[:, None])
        onehot = F.one_hot(t.clamp_min(0), logits.shape[1]).to(D64)
        d = torch.where(t >= 0, d_logprobs.to(D64), torch.zeros_like(d_logprobs, dtype=D64))[:, None]
        put(d_logits, d * (onehot - p))

    def adamw(self, param, grad, m, v, lr, step, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1):
        g = grad.to(D64)
        m.copy_(beta1 * m + (1 - beta1) * g)
        v.copy_(beta2 * v + (1 - beta2) * g * g)
        mh, vh = m / (1 - beta1**step), v / (1 - beta2**step)
        param.copy_(param - lr * (mh / (vh.sqrt() + eps) + weight_decay * param))

    def sample(self, logits, uniforms, ids, temperature, top_k=0, top_p=1.0):
        put(ids, logits.argmax(-1))


def main():
    torch.manual_seed(0)
    qwen.configure(torch.float32, "cpu")
    a = SimpleNamespace(layers=2, hidden=32, heads=4, kv_heads=2, ffn=48, vocab=97, T=19, rope_theta=1e4)
    model = Decoder(a).double()
    ours = qwen.OurQwen(TorchLwz(), model, a)
    ids = torch.randint(0, a.vocab, (1, a.T))
    ids32 = ids.view(-1).to(torch.int32)
    targets = torch.cat([ids32[1:], torch.tensor([-1], dtype=torch.int32)])
    loss_t = F.cross_entropy(model(ids)[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
    loss_t.backward()
    ours.refresh()
    loss_o = ours.forward(ids32, targets, chunk=7)  # chunks of 7 rows cross the 19 tokens unevenly
    ours.backward()
    worst = ("loss", abs(loss_o.item() - loss_t.item()) / abs(loss_t.item()))
    for name, p in model.named_parameters():
        err = ((ours.grad[name].double() - p.grad).norm() / p.grad.norm()).item()
        worst = max(worst, (name, err), key=lambda e: e[1])
    print(f"selftest: loss torch {loss_t.item():.6f} ours {loss_o.item():.6f}; worst relative error {worst[1]:.2e} ({worst[0]})")
    ours.optimizer_step()
    ours.refresh()
    cache = ours.new_cache(3, 12)
    tcache = [(c.clone(), v.clone()) for c, v in cache]  # both (B, Hkv, S, D)
    w16 = {n: t.clone() for n, t in ours.master.items()}
    tokens = torch.tensor([1, 2, 3], dtype=torch.int32)
    for i in range(3):  # greedy on both sides (the stand-in samples by argmax): the same ids, step after step
        mine = ours.decode_step(tokens, cache, 8 + i, torch.rand(3))
        theirs = qwen.torch_decode_step(model, w16, tokens, tcache, 8 + i, greedy=True)
        if mine.tolist() != theirs.tolist():
            worst = ("decode ids", float("inf"))
        tokens = mine
    print(f"selftest: 3 greedy decode steps, last ids ours {mine.tolist()} torch {theirs.tolist()}")
    if worst[1] > 1e-5:
        print("selftest FAILED")
        sys.exit(1)
    print("selftest passed")


if __name__ == "__main__":
    main()
