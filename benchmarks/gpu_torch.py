"""The PyTorch side of `pnpm bench gpu`: the same work as our rows, fp32 with TF32 off.

A worker: benchmarks/gpu/torch-worker.ts starts it once and sends one JSON request per line on
stdin, {"id", "spec", "reps", "budget_s"}; it answers one JSON line per request on stdout,
{"id", "ms", ...} or {"id", "error"}. The first line it prints is {"ready": true, "torch",
"device"} (or {"ready": false, "reason"} when --device cuda finds no CUDA GPU, then it exits).

Timing is the benchmark's (benchmarks/gpu/timing.ts): one warm-up call, one call timed alone to
choose how many calls to record between synchronizations (up to 10, about 0.25 s), then `reps`
batches; ms is the median per call. torch.cuda.synchronize() ends each batch, so the time
includes the GPU's work and no more than one synchronization per batch.

Specs (shapes as our rows build them; the inputs are standard normal, fixed seed):
  {"op": "matmul", "a": [..], "b": [..], "transA": bool, "transB": bool}  a and b as stored
  {"op": "layerNorm", "shape": [N, D], "pass": "fwd" | "bwd"}  with weight and bias; bwd
      times backward alone through a retained graph (dx, dweight, dbias)
  {"op": "softmax" | "sum", "shape": [..]}  over the last axis
  {"op": "adamw", "shapes": [[..], ..], "decay": [bool, ..]}  torch.optim.AdamW (its default
      implementation for the device) over parameters of these shapes with gradients set
  {"op": "attention", "shape": [B, H, T, E], "pass": "fwd" | "fwdbwd"}
  {"op": "step", "config": TrainStepConfig}  train_step_torch.py's model and step; also fwd_ms

Usage: python3 gpu_torch.py --device cuda|cpu
"""
import argparse
import gc
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from train_step_torch import make_step

OPS = ("matmul", "layerNorm", "softmax", "sum", "adamw", "attention", "step")
MAX_INNER = 10
BATCH_SECONDS = 0.25


class Runner:
    def __init__(self, device):
        self.device = device
        self.generator = torch.Generator(device=device).manual_seed(0)

    def sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    def randn(self, shape, requires_grad=False):
        return torch.randn(*shape, device=self.device, generator=self.generator).requires_grad_(requires_grad)

    def time_calls(self, call, reps, deadline):
        """Median ms per call; the same scheme as benchmarks/gpu/timing.ts."""
        call()
        self.sync()
        start = time.perf_counter()
        call()
        self.sync()
        single = time.perf_counter() - start
        inner = max(1, min(MAX_INNER, round(BATCH_SECONDS / max(single, 1e-9))))
        times = []
        for _ in range(reps):
            if times and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            for _ in range(inner):
                call()
            self.sync()
            times.append((time.perf_counter() - start) / inner)
        return {"ms": statistics.median(times) * 1000, "inner": inner, "reps": len(times)}

    def matmul(self, spec, reps, deadline):
        a, b = self.randn(spec["a"]), self.randn(spec["b"])
        left = a.t() if spec["transA"] else a
        right = b.t() if spec["transB"] else b
        return self.time_calls(lambda: torch.matmul(left, right), reps, deadline)

    def layerNorm(self, spec, reps, deadline):
        n, d = spec["shape"]
        backward = spec["pass"] == "bwd"
        x = self.randn([n, d], backward)
        weight = torch.ones(d, device=self.device, requires_grad=backward)
        bias = torch.zeros(d, device=self.device, requires_grad=backward)
        if not backward:
            return self.time_calls(lambda: F.layer_norm(x, (d,), weight, bias), reps, deadline)
        y = F.layer_norm(x, (d,), weight, bias)
        grad = self.randn([n, d])

        def call():
            y.backward(grad, retain_graph=True)
            x.grad = weight.grad = bias.grad = None

        return self.time_calls(call, reps, deadline)

    def softmax(self, spec, reps, deadline):
        x = self.randn(spec["shape"])
        return self.time_calls(lambda: F.softmax(x, dim=-1), reps, deadline)

    def sum(self, spec, reps, deadline):
        x = self.randn(spec["shape"])
        return self.time_calls(lambda: x.sum(-1), reps, deadline)

    def adamw(self, spec, reps, deadline):
        params = [self.randn(shape, True) for shape in spec["shapes"]]
        for p in params:
            p.grad = torch.randn_like(p)
        decay = [p for p, d in zip(params, spec["decay"]) if d]
        rest = [p for p, d in zip(params, spec["decay"]) if not d]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
        return self.time_calls(optimizer.step, reps, deadline)

    def attention(self, spec, reps, deadline):
        backward = spec["pass"] == "fwdbwd"
        q, k, v = (self.randn(spec["shape"], backward) for _ in range(3))
        if not backward:
            return self.time_calls(lambda: attend(q, k, v), reps, deadline)
        grad = self.randn(spec["shape"])

        def call():
            attend(q, k, v).backward(grad)
            q.grad = k.grad = v.grad = None

        return self.time_calls(call, reps, deadline)

    def step(self, spec, reps, deadline):
        step, forward = make_step(spec["config"], self.device)
        result = self.time_calls(step, reps, deadline)  # step() reads the loss, so it waits for the GPU
        fwd = self.time_calls(forward, reps, deadline)
        return {**result, "fwd_ms": fwd["ms"]}


def attend(q, k, v):
    """torch's fused attention where it has one (>= 2.0), else the composite."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    weights = F.softmax((q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1])), dim=-1)  # [B, H, T, T]
    return weights @ v  # [B, H, T, E]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", choices=["cuda", "cpu"], required=True)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"ready": False, "reason": f"torch {torch.__version__} here has no CUDA GPU (torch.cuda.is_available() is False)"}), flush=True)
        return
    # fp32 as our kernels compute it: no TF32 in matmuls or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if hasattr(torch, "set_float32_matmul_precision"):
        torch.set_float32_matmul_precision("highest")
    device_name = torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu, torch threads {torch.get_num_threads()}"
    runner = Runner(args.device)
    print(json.dumps({"ready": True, "torch": torch.__version__, "device": device_name}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        deadline = time.perf_counter() + request["budget_s"]
        try:
            spec = request["spec"]
            if spec["op"] not in OPS:
                raise ValueError(f"unknown op {spec['op']!r}, expected one of {', '.join(OPS)}")
            answer = getattr(runner, spec["op"])(spec, request["reps"], deadline)
        except Exception as error:  # one failing row must not end the run
            answer = {"error": f"{type(error).__name__}: {error}".strip().split("\n")[0]}
        gc.collect()
        if args.device == "cuda":
            torch.cuda.empty_cache()
        print(json.dumps({"id": request["id"], **answer}), flush=True)


if __name__ == "__main__":
    main()
