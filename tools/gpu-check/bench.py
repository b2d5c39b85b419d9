#!/usr/bin/env python3
# The GPU check's PyTorch comparisons (issue #14), our kernels through liblwz_cuda.so against PyTorch on the
# same GPU and stream: bf16 GEMM vs torch.matmul (both our engines), causal GQA attention forward / backward vs
# SDPA (with a numeric check), one training step of the qwen2.5-0.5b shape at T = 4096 vs the PyTorch
# implementation of the same model in benchmarks/model/torch_step.py (loss and a gradient compared, MFU for
# both), and decode tokens/s at batch 1 / 32 / 128. Prints one line per measurement and a RATIO line each.
#   usage: bench.py --lib build/liblwz_cuda.so [--quick]
import argparse
import os
import sys
import time
from types import SimpleNamespace

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../../benchmarks/model"))
from lwz import Lwz  # noqa: E402
from qwen import OurQwen, torch_decode_step  # noqa: E402
from torch_step import Decoder  # noqa: E402

BF16 = torch.bfloat16


def gpu_ms(fn, iters=10, warmup=2):
    for _ in range(warmup):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def peak_bf16_tflops(name):
    """Dense bf16 tensor-core peak of known parts (no sparsity), for MFU."""
    table = [("H200", 989.4), ("H100 PCIe", 756.0), ("H100", 989.4), ("A100", 312.0), ("L40S", 362.0), ("A10", 125.0)]
    for key, tflops in table:
        if key in name:
            return tflops
    return float("nan")


def rel_err(got, want):
    return ((got.float() - want.float()).norm() / want.float().norm().clamp_min(1e-30)).item()


def gemm(lwz, quick):
    shapes = [("square", 4096, 4096, 4096), ("x W_up^T (T 4096, C 896 -> F 4864)", 4096, 4864, 896),
              ("x W_down^T (F 4864 -> C 896)", 4096, 896, 4864), ("lm head (T 4096 x V 151936 x C 896)", 4096, 151936, 896)]
    for what, m, n, k in shapes[:2] if quick else shapes:
        a = torch.randn(m, k, dtype=BF16, device="cuda")
        w = torch.randn(n, k, dtype=BF16, device="cuda")
        ref = torch.matmul(a, w.t())
        t_torch = gpu_ms(lambda: torch.matmul(a, w.t()))
        flops = 2.0 * m * n * k
        print(f"gemm {what}: torch.matmul {t_torch:.3f} ms {flops / t_torch / 1e9:.1f} TFLOP/s")
        for engine in ["cublaslt", "own"]:
            out = torch.empty(m, n, dtype=BF16, device="cuda")
            try:
                lwz.option("gemm", engine)
                lwz.matmul(a, w, out, trans_b=True)
            except RuntimeError as e:
                print(f"gemm {what}: {engine} unavailable: {e}")
                continue
            t = gpu_ms(lambda: lwz.matmul(a, w, out, trans_b=True))
            print(f"gemm {what}: ours[{engine}] {t:.3f} ms {flops / t / 1e9:.1f} TFLOP/s, rel err vs torch {rel_err(out, ref):.2e}")
            print(f"RATIO gemm {what} ours[{engine}]/torch throughput = {t_torch / t:.2f}  (target >= 0.8)")
    lwz.option("gemm", "auto")


def attention(lwz, quick):
    shapes = [("qwen2.5-0.5b heads", 1, 4096, 14, 2, 64), ("7B-like heads", 1, 4096, 28, 4, 128), ("batch 8 x T 1024", 8, 1024, 14, 2, 64)]
    for what, b, t, h, hkv, d in shapes[:1] if quick else shapes:
        q = torch.randn(b, t, h, d, dtype=BF16, device="cuda")
        k = torch.randn(b, t, hkv, d, dtype=BF16, device="cuda")
        v = torch.randn(b, t, hkv, d, dtype=BF16, device="cuda")
        d_out = torch.randn(b, t, h, d, dtype=BF16, device="cuda")
        qt, kt, vt = (x.transpose(1, 2).detach().requires_grad_() for x in (q, k, v))

        def sdpa():
            try:
                return F.scaled_dot_product_attention(qt, kt, vt, is_causal=True, enable_gqa=True)
            except TypeError:  # torch < 2.5
                r = h // hkv
                return F.scaled_dot_product_attention(qt, kt.repeat_interleave(r, 1), vt.repeat_interleave(r, 1), is_causal=True)

        ref = sdpa()
        dq_ref, dk_ref, dv_ref = torch.autograd.grad(ref, (qt, kt, vt), d_out.transpose(1, 2), retain_graph=True)
        with torch.no_grad():
            t_fwd = gpu_ms(sdpa)
        t_bwd = gpu_ms(lambda: torch.autograd.grad(ref, (qt, kt, vt), d_out.transpose(1, 2), retain_graph=True))
        zeros = torch.zeros(b, dtype=torch.int32, device="cuda")
        out, lse = torch.empty_like(q), torch.empty(b, h, t, dtype=torch.float32, device="cuda")
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        flops = 4.0 * b * h * t * t * d / 2
        print(f"attention {what} (B{b} T{t} H{h}/{hkv} D{d}): SDPA forward {t_fwd:.3f} ms ({flops / t_fwd / 1e9:.1f} TFLOP/s), "
              f"backward {t_bwd:.3f} ms ({2.5 * flops / t_bwd / 1e9:.1f} TFLOP/s)")
        for impl in ["flash", "wmma"]:  # flash: registers (mma.sync); wmma: shared-memory tiles
            lwz.option("attention", impl)
            fwd = lambda: lwz.attention(q, k, v, zeros, zeros, out, lse)  # noqa: E731
            bwd = lambda: lwz.attention_backward(q, k, v, zeros, zeros, out, lse, d_out, dq, dk, dv)  # noqa: E731
            fwd()
            bwd()
            errs = [rel_err(out, ref.transpose(1, 2)), rel_err(dq, dq_ref.transpose(1, 2)), rel_err(dk, dk_ref.transpose(1, 2)),
                    rel_err(dv, dv_ref.transpose(1, 2))]
            o_fwd, o_bwd = gpu_ms(fwd), gpu_ms(bwd)
            print(f"attention {what} ours[{impl}]: forward {o_fwd:.3f} ms ({flops / o_fwd / 1e9:.1f} TFLOP/s), backward {o_bwd:.3f} ms "
                  f"({2.5 * flops / o_bwd / 1e9:.1f} TFLOP/s); rel err out/dq/dk/dv {' '.join(f'{e:.1e}' for e in errs)}")
            print(f"RATIO attention {what} forward ours[{impl}]/SDPA throughput = {t_fwd / o_fwd:.2f}")
            print(f"RATIO attention {what} backward ours[{impl}]/SDPA throughput = {t_bwd / o_bwd:.2f}")
            if max(errs) > 2e-2:
                print(f"FAIL attention {what} ours[{impl}]: relative error {max(errs):.2e} > 2e-2 against SDPA")
        lwz.option("attention", "auto")


def qwen_args(T):
    return SimpleNamespace(layers=24, hidden=896, heads=14, kv_heads=2, ffn=4864, vocab=151936, T=T, rope_theta=1e6)


def train_flops(a, T):
    D = a.hidden // a.heads
    per_layer = a.hidden * (a.heads * D) * 2 + a.hidden * (a.kv_heads * D) * 2 + 3 * a.hidden * a.ffn
    matmul_params = a.layers * per_layer + a.vocab * a.hidden  # the tied lm head is a matmul too
    return 6.0 * matmul_params * T + 6.0 * a.layers * a.heads * D * T * T  # causal attention: half of 12 L H D T^2


def profile_step(who, fn, rows=14):
    """One more step under torch.profiler (CUPTI sees every kernel in the process, ours included): GPU time by kernel."""
    try:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        def us(e):  # the attribute's name before torch 2.4: self_cuda_time_total
            return getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)

        events = sorted((e for e in prof.key_averages() if us(e) > 0), key=lambda e: -us(e))
        total = sum(us(e) for e in events)
        print(f"profile train step {who}: {total / 1e3:.1f} ms of GPU kernels, top {rows}:")
        for e in events[:rows]:
            print(f"  {us(e) / 1e3:8.2f} ms {100 * us(e) / total:5.1f}%  x{e.count:<5d} {e.key[:110]}")
    except Exception as e:  # the profile is extra information, never a failure of the check
        print(f"profile train step {who}: unavailable ({type(e).__name__}: {e})")


def train_step(lwz, quick):
    T = 1024 if quick else 4096
    a = qwen_args(T)
    torch.manual_seed(0)
    model = Decoder(a).cuda()
    ours = OurQwen(lwz, model, a)
    ids = torch.randint(0, a.vocab, (1, T), device="cuda")
    ids32 = ids.view(-1).to(torch.int32)
    targets = torch.cat([ids32[1:], torch.full((1,), -1, dtype=torch.int32, device="cuda")])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=True)

    def torch_loss():
        with torch.autocast("cuda", dtype=BF16):
            logits = model(ids)
        return F.cross_entropy(logits[:, :-1].float().reshape(-1, a.vocab), ids[:, 1:].reshape(-1))

    # numerics: same weights, same tokens, before any optimizer step
    opt.zero_grad(set_to_none=False)
    loss_t = torch_loss()
    loss_t.backward()
    ours.refresh()
    loss_o = ours.forward(ids32, targets)
    ours.backward()
    g_t, g_o = model.layers[0].q.weight.grad, ours.grad["layers.0.q.weight"]
    e_t, e_o = model.embed.grad, ours.grad["embed"]
    print(f"train step numerics (T {T}): loss torch {loss_t.item():.5f} ours {loss_o.item():.5f}; rel err of grads: "
          f"layers.0.q.weight {rel_err(g_o, g_t):.2e}, embed {rel_err(e_o, e_t):.2e}")
    if abs(loss_t.item() - loss_o.item()) > 1e-2 * abs(loss_t.item()) or rel_err(g_o, g_t) > 0.1:
        print("FAIL train step: our loss or gradients disagree with PyTorch")

    def torch_step():
        opt.zero_grad(set_to_none=False)
        torch_loss().backward()
        opt.step()

    t_torch = gpu_ms(torch_step, iters=3, warmup=1)
    t_ours = gpu_ms(lambda: ours.train_step(ids32, targets), iters=3, warmup=1)
    flops, peak = train_flops(a, T), peak_bf16_tflops(torch.cuda.get_device_name())
    for who, ms in [("torch (autocast bf16, SDPA, fused AdamW)", t_torch), ("ours (bf16 storage, f32 master)", t_ours)]:
        tf = flops / ms / 1e9
        print(f"train step qwen2.5-0.5b T {T} {who}: {ms:.1f} ms, {tf:.1f} TFLOP/s, MFU {100 * tf / peak:.1f}% of {peak} TFLOP/s")
    print(f"RATIO train step ours/torch throughput = {t_torch / t_ours:.2f}  (target: ours MFU >= 30%)")
    profile_step("ours", lambda: ours.train_step(ids32, targets))
    profile_step("torch", torch_step)
    del model, ours, opt
    torch.cuda.empty_cache()


def decode(lwz, quick):
    a = qwen_args(1)
    torch.manual_seed(0)
    model = Decoder(a).cuda()
    ours = OurQwen(lwz, model, a)
    ours.refresh()
    w16 = {n: t.to(BF16) for n, t in ours.master.items()}
    context, steps = 1024, 16
    for batch in [1, 32] if quick else [1, 32, 128]:
        cache = ours.new_cache(batch, context + steps + 1)
        tcache = [(ck.clone(), cv.clone()) for ck, cv in cache]  # both (B, Hkv, S, D)
        tokens = torch.randint(0, a.vocab, (batch,), dtype=torch.int32, device="cuda")

        def run_ours():
            tok = tokens
            for i in range(steps):
                tok = ours.decode_step(tok, cache, context + i, torch.rand(batch, device="cuda"))

        def run_torch():
            tok = tokens
            with torch.no_grad():
                for i in range(steps):
                    tok = torch_decode_step(model, w16, tok, tcache, context + i)

        t_ours, t_torch = gpu_ms(run_ours, iters=2, warmup=1), gpu_ms(run_torch, iters=2, warmup=1)
        tps_o, tps_t = batch * steps / t_ours * 1e3, batch * steps / t_torch * 1e3
        print(f"decode batch {batch} (context {context}): torch {tps_t:.0f} tokens/s, ours {tps_o:.0f} tokens/s")
        print(f"RATIO decode batch {batch} ours/torch tokens/s = {tps_o / tps_t:.2f}")
    del model, ours


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", choices=["gemm", "attention", "train", "decode"])
    o = p.parse_args()
    # one non-default stream for both sides: ours runs on it too (see Lwz), so CUDA events time both
    torch.cuda.set_stream(torch.cuda.Stream())
    lwz = Lwz(o.lib)
    print(f"ours: {lwz.description}")
    print(f"ours: attention {lwz.attention_status}")
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name()}")
    for name, fn in [("gemm", gemm), ("attention", attention), ("train", train_step), ("decode", decode)]:
        if o.only and o.only != name:
            continue
        t0 = time.time()
        try:
            fn(lwz, o.quick)
        except Exception as e:  # one broken section must not hide the others' numbers
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        print(f"({name} took {time.time() - t0:.0f} s)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
