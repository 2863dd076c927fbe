"""One G.pt training step in PyTorch: the reference for `pnpm bench train-step`.

The same model and step as benchmarks/train-step/model/gpt-train-step.ts (@gpt/transformer's
Gpt): the scalar frequency embedding of t, the metric change and both metrics; one bias-free
Linear encoder per token (sizes from the TS config's split policy), ln_in, a zero-
initialized positional embedding, pre-LayerNorm blocks without causal mask (separate
key/query/value/proj, exact GELU), ln_f, one bias-free decoder per parameter token, the global
residual to x_prev; MSE to a target and AdamW with weight decay on Linear weights only. Prints
one JSON line: {"seconds": median seconds per step, "threads": N, "torch": version}.

Usage: /usr/bin/python3 train_step_torch.py --config JSON --reps N --threads N|all
"""
import argparse
import json
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.key = nn.Linear(d, d)
        self.query = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        b, t, c = x.shape
        hd = c // self.heads
        q, k, v = (layer(x).view(b, t, self.heads, hd).transpose(1, 2) for layer in (self.query, self.key, self.value))  # [B, H, T, hd]
        weights = F.softmax((q @ k.transpose(-2, -1)) * (1 / math.sqrt(hd)), dim=-1)  # [B, H, T, T]
        return self.proj((weights @ v).transpose(1, 2).reshape(b, t, c))  # [B, T, C]


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["nEmbd"]
        # Token sizes come from the TS side (@gpt/transformer's computeTokenSizes for the config's split policy).
        self.tokens_in, tokens_out = cfg["inputSplits"], cfg["outputSplits"]
        self.register_buffer("frequencies", 2 ** torch.linspace(0, cfg["maxFreqLog2"], cfg["numFrequencies"]))
        self.pos_emb = nn.Parameter(torch.zeros(1, len(self.tokens_in), d))
        self.blocks = nn.Sequential(*[Block(d, cfg["nHead"]) for _ in range(cfg["nLayer"])])
        self.encoders = nn.ModuleList(nn.Linear(s, d, bias=False) for s in self.tokens_in)
        self.ln_in = nn.LayerNorm(d)
        self.ln_f = nn.LayerNorm(d)
        self.decoders = nn.ModuleList(nn.Linear(d, s, bias=False) for s in tokens_out)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for m in self.decoders:
            nn.init.zeros_(m.weight)

    def embed(self, s):
        scaled = s.float()[:, None] * self.frequencies[None, :]  # [N, F]
        return torch.cat([torch.sin(scaled), torch.cos(scaled), s.float()[:, None]], 1)  # [N, 2F + 1]

    def forward(self, x, t, loss_target, loss_prev, x_prev):
        scalars = [self.embed(t), self.embed(loss_target - loss_prev), self.embed(loss_target), self.embed(loss_prev)]
        pieces = torch.split(torch.cat([x, x_prev] + scalars, 1), self.tokens_in, dim=1)
        h = torch.stack([enc(p) for enc, p in zip(self.encoders, pieces)], 1)  # [N, T, C]
        h = self.ln_f(self.blocks(self.ln_in(h) + self.pos_emb))  # [N, T, C]
        out = torch.cat([dec(h[:, j]) for j, dec in enumerate(self.decoders)], 1)  # [N, D]
        return out + x_prev


def weight_decay_groups(model, wd):
    """Decay Linear weights only (the official configure_optimizers)."""
    decay = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    ids = {id(p) for p in decay}
    return [{"params": decay, "weight_decay": wd}, {"params": [p for p in model.parameters() if id(p) not in ids], "weight_decay": 0.0}]


def make_step(cfg, device="cpu"):
    """The model, AdamW and a batch of `cfg`'s shapes on `device`; returns (step, forward).

    step() is one training step (forward, MSE, backward, AdamW) returning the loss as a number,
    which waits for the device; forward() is the forward pass alone under no_grad (not waited for).
    """
    torch.manual_seed(0)
    model = Gpt(cfg).to(device)
    optimizer = torch.optim.AdamW(weight_decay_groups(model, 0.1), lr=1e-4)
    p = sum(cfg["parameterSizes"])
    b = cfg["batch"]
    x, x_prev, target = (torch.randn(b, p, device=device) for _ in range(3))
    t = torch.tensor([(i * 37) % 1000 for i in range(b)], device=device)
    loss_target, loss_prev = torch.randn(b, device=device), torch.randn(b, device=device)

    def step():
        loss = F.mse_loss(model(x, t, loss_target, loss_prev, x_prev), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    def forward():
        with torch.no_grad():
            return model(x, t, loss_target, loss_prev, x_prev)

    return step, forward


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", default="all")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    threads = os.cpu_count() if args.threads == "all" else int(args.threads)
    torch.set_num_threads(threads)
    step, _ = make_step(cfg)
    for _ in range(2):
        step()
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": statistics.median(times), "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
