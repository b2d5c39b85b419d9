#!/usr/bin/env python3
# PyTorch baseline for benchmarks/model/grpo-update.bench.ts (issue #12): one GRPO update on the same Qwen2
# decoder shape as torch_step.py's (imported from it): forward -> per-token log-probs of the targets ->
# PPO-clip loss (eps 0.2 both sides, no KL) token-mean over the answer tokens -> backward -> AdamW, in
# float32 on CPU with the given thread count. Benchmark-only: run with the system python and Debian's
# python3-torch; never a project dependency. Prints one JSON line: {"update_ms", "torch", "threads"} (median).
import argparse
import json
import math

import torch
import torch.nn.functional as F

from torch_step import Decoder, median_ms


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("kv_heads", 4), ("ffn", 1024), ("vocab", 4096),
                          ("B", 8), ("T", 1024), ("prompt", 64), ("threads", 2), ("iters", 3), ("warmup", 1)]:
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--rope_theta", type=float, default=10000.0)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Decoder(a)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    ids = torch.randint(0, a.vocab, (a.B, a.T))
    targets = torch.cat([ids[:, 1:], torch.full((a.B, 1), -1)], 1)  # (B, T), -1 = ignored
    pos = torch.arange(a.T)[None, :]
    mask = ((pos >= a.prompt - 1) & (pos < a.T - 1)).float().expand(a.B, a.T)  # (B, T) answer tokens
    advantages = torch.randn(a.B, 1)  # (B, 1) broadcast over the row's tokens

    def logprobs():
        logits = model(ids)  # (B, T, V)
        nll = F.cross_entropy(logits.reshape(-1, a.vocab), targets.reshape(-1), ignore_index=-1, reduction="none")
        return -nll.view(a.B, a.T)

    with torch.no_grad():
        old = logprobs()

    def update():
        opt.zero_grad(set_to_none=False)
        lp = logprobs()
        ratio = torch.exp(torch.clamp(lp - old, -20.0, 20.0))
        pg = torch.maximum(-advantages * ratio, -advantages * torch.clamp(ratio, 0.8, 1.2))
        loss = (pg * mask).sum() / mask.sum()
        loss.backward()
        opt.step()
        assert math.isfinite(loss.item())

    out = {"update_ms": median_ms(update, a.iters, a.warmup), "torch": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
