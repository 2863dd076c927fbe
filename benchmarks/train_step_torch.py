"""One G.pt-shaped training step in PyTorch: the reference for `pnpm bench train-step`.

The same model as benchmarks/train-step/model/gpt-backbone.ts: per-token linear
encoders, a pre-LayerNorm GPT transformer without causal mask (exact GELU), per-token
linear decoders plus the global residual to x_prev, MSE loss and AdamW. Prints one JSON
line: {"seconds": median seconds per step, "threads": N, "torch": version}.

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
    """minGPT's attention as G.pt uses it: separate key/query/value/proj layers, no mask."""

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
        q, k, v = (layer(x).reshape(b, t, self.heads, hd).permute(0, 2, 1, 3) for layer in (self.query, self.key, self.value))  # [B, H, T, hd]
        scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(hd))  # [B, H, T, T]
        y = F.softmax(scores, dim=-1) @ v  # [B, H, T, hd]
        return self.proj(y.permute(0, 2, 1, 3).reshape(b, t, c))  # [B, T, C]


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.fc_proj(F.gelu(self.fc(self.ln2(h))))


class GptBackbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, sizes = cfg["d"], cfg["parameterTokens"]
        self.sizes = sizes
        self.encoders_t = nn.ModuleList(nn.Linear(s, d) for s in sizes)
        self.encoders_prev = nn.ModuleList(nn.Linear(s, d) for s in sizes)
        self.encoders_scalar = nn.ModuleList(nn.Linear(cfg["scalarWidth"], d) for _ in range(cfg["scalarTokens"]))
        tokens = 2 * len(sizes) + cfg["scalarTokens"]
        self.position = nn.Parameter(torch.randn(tokens, d) * 0.02)
        self.ln_in = nn.LayerNorm(d)
        self.blocks = nn.ModuleList(Block(d, cfg["heads"]) for _ in range(cfg["layers"]))
        self.ln_out = nn.LayerNorm(d)
        self.decoders = nn.ModuleList(nn.Linear(d, s) for s in sizes)

    def forward(self, xt, x_prev, scalars):
        chunks_t = torch.split(xt, self.sizes, dim=1)
        chunks_prev = torch.split(x_prev, self.sizes, dim=1)
        tokens = [e(c) for e, c in zip(self.encoders_t, chunks_t)]
        tokens += [e(c) for e, c in zip(self.encoders_prev, chunks_prev)]
        tokens += [e(s) for e, s in zip(self.encoders_scalar, scalars)]
        h = self.ln_in(torch.stack(tokens, 1) + self.position)  # [B, T, C]
        for block in self.blocks:
            h = block(h)
        h = self.ln_out(h)
        outputs = [dec(h[:, i]) for i, dec in enumerate(self.decoders)]  # each [B, size_i]
        return torch.cat(outputs, 1) + x_prev  # [B, P]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", default="all")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    threads = os.cpu_count() if args.threads == "all" else int(args.threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GptBackbone(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    p = sum(cfg["parameterTokens"])
    b = cfg["batch"]
    xt, x_prev, target = torch.randn(b, p), torch.randn(b, p), torch.randn(b, p)
    scalars = [torch.randn(b, cfg["scalarWidth"]) for _ in range(cfg["scalarTokens"])]

    def step():
        loss = F.mse_loss(model(xt, x_prev, scalars), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

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
