#!/usr/bin/env python3
# The PyTorch side of the copy-task check (issue #11; driver: apps/trainer/src/pretrain/copy-vs-torch.ts):
# train torch_step.py's Qwen2 decoder from OUR initial weights (a checkpoint directory: config.json +
# model.safetensors, F32) on OUR batches (an int32 file of steps x B x (T + 1) tokens) with the same update as
# our pretraining loop: mean next-token loss over every position, global-norm clipping, torch.optim.AdamW
# with weight decay on matrices only (not norms, not biases: @lwz/optimizer's default rule) and the per-step
# learning rates the driver computed with our schedule. Prints one JSON line: per step the loss, the loss on
# the second copy (positions L..2L-1) and the pre-clip gradient norm, plus every parameter's gradient norm at
# step 0 under our tensor names (to bisect a divergence). Check-only: system python with Debian's torch.
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import Decoder  # noqa: E402  (the same decoder the speed comparison uses)


def read_safetensors(path):
    """name -> float32 tensor, for a little-endian F32 safetensors file."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {e['dtype']}, expected F32")
        lo, hi = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(buf[8 + n + lo : 8 + n + hi], dtype="<f4").copy()).reshape(e["shape"])
    return out


def build(init_dir, T):
    """torch_step's Decoder with the checkpoint's weights; returns (model, {our name: torch parameter})."""
    with open(os.path.join(init_dir, "config.json")) as f:
        c = json.load(f)
    C, H = c["hidden_size"], c["num_attention_heads"]
    if c.get("head_dim", C // H) != C // H or abs(c["rms_norm_eps"] - 1e-6) > 0 or not c.get("tie_word_embeddings", True):
        raise SystemExit("torch_copy.py: needs head_dim = hidden / heads, rms_norm_eps 1e-6 and tied embeddings")
    a = argparse.Namespace(
        layers=c["num_hidden_layers"], hidden=C, heads=H, kv_heads=c["num_key_value_heads"], ffn=c["intermediate_size"],
        vocab=c["vocab_size"], T=T, rope_theta=float(c["rope_theta"]),
    )
    model = Decoder(a)
    names = {"model.embed_tokens.weight": model.embed, "model.norm.weight": model.norm}
    for i, m in enumerate(model.layers):
        p = f"model.layers.{i}"
        names[f"{p}.input_layernorm.weight"] = m.ln1
        names[f"{p}.post_attention_layernorm.weight"] = m.ln2
        for ours, lin in [("self_attn.q_proj", m.q), ("self_attn.k_proj", m.k), ("self_attn.v_proj", m.v), ("self_attn.o_proj", m.o),
                          ("mlp.gate_proj", m.gate), ("mlp.up_proj", m.up), ("mlp.down_proj", m.down)]:
            names[f"{p}.{ours}.weight"] = lin.weight
            if lin.bias is not None:
                names[f"{p}.{ours}.bias"] = lin.bias
    weights = read_safetensors(os.path.join(init_dir, "model.safetensors"))
    if set(weights) != set(names):
        raise SystemExit(f"torch_copy.py: tensor names differ: {sorted(set(weights) ^ set(names))[:6]}")
    with torch.no_grad():
        for name, p in names.items():
            if tuple(p.shape) != tuple(weights[name].shape):
                raise SystemExit(f"torch_copy.py: {name}: shape {tuple(weights[name].shape)}, decoder has {tuple(p.shape)}")
            p.copy_(weights[name])
    return model, names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="checkpoint directory (config.json + model.safetensors)")
    ap.add_argument("--batches", required=True, help="int32 file: steps x B x (2L + 1) tokens")
    ap.add_argument("--spec", required=True, help="JSON: {B, L, lrs, beta1, beta2, eps, weightDecay, gradClip}")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--float64", type=int, default=0, help="train in float64 (how far float32 noise alone moves the curve)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.spec) as f:
        s = json.load(f)
    B, L, lrs = s["B"], s["L"], s["lrs"]
    T = 2 * L
    tokens = np.fromfile(a.batches, dtype="<i4").reshape(len(lrs), B, T + 1)
    model, names = build(a.init, T)
    if a.float64:
        model = model.double()
    decay = [p for n, p in names.items() if "norm" not in n and not n.endswith("bias")]
    rest = [p for n, p in names.items() if "norm" in n or n.endswith("bias")]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s["weightDecay"]}, {"params": rest, "weight_decay": 0.0}],
        lr=lrs[0], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
    )
    params = list(names.values())
    rows, grad0 = [], {}
    for step, lr in enumerate(lrs):
        batch = torch.from_numpy(tokens[step].astype(np.int64))
        ids, targets = batch[:, :-1], batch[:, 1:]
        opt.zero_grad(set_to_none=False)
        logp = torch.log_softmax(model(ids), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T)
        loss = -logp.mean()
        loss.backward()
        if step == 0:
            grad0 = {n: p.grad.norm().item() for n, p in names.items()}
        norm = torch.nn.utils.clip_grad_norm_(params, s["gradClip"]) if s["gradClip"] > 0 else None
        if norm is None:
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        rows.append({"loss": loss.item(), "copyLoss": -logp[:, L:].mean().item(), "gradNorm": float(norm)})
        if not math.isfinite(rows[-1]["loss"]):
            break
    print(json.dumps({"torch": torch.__version__, "float64": bool(a.float64), "rows": rows, "grad0": grad0}))


if __name__ == "__main__":
    main()
