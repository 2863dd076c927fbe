"""float32 matmul and conv2d timings in PyTorch: the reference columns of `pnpm bench matmul`.

Usage: /usr/bin/python3 matmul_torch.py --threads N|all --reps R (--matmul M N K | --conv2d N C H W O)
Prints one JSON line: {"seconds": median seconds of R runs after one warm-up, "threads": N, "torch": version}.
The conv2d is the benchmark's layer: 3x3 filters, stride 2, padding 1, no bias (NCHW).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F


def median_seconds(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", default="all")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--matmul", type=int, nargs=3, metavar=("M", "N", "K"))
    parser.add_argument("--conv2d", type=int, nargs=5, metavar=("N", "C", "H", "W", "O"))
    args = parser.parse_args()
    threads = os.cpu_count() if args.threads == "all" else int(args.threads)
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    if args.matmul:
        m, n, k = args.matmul
        a = torch.randn(m, k, generator=gen)
        b = torch.randn(k, n, generator=gen)
        seconds = median_seconds(lambda: torch.mm(a, b), args.reps)
    elif args.conv2d:
        n, c, h, w, o = args.conv2d
        x = torch.randn(n, c, h, w, generator=gen)
        f = torch.randn(o, c, 3, 3, generator=gen)
        seconds = median_seconds(lambda: F.conv2d(x, f, stride=2, padding=1), args.reps)
    else:
        parser.error("give --matmul M N K or --conv2d N C H W O")
    print(json.dumps({"seconds": seconds, "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
