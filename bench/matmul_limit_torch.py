#!/usr/bin/python3
"""PyTorch's side of the machine's matmul limit (bench/matmul_limit.cpp): C = A[M,K] W[N,K]^T in
float32 and bfloat16 (oneDNN where Debian's torch uses it), best of --repeat calls after a warm-up,
same shape and threads as matmul_limit_bench. One JSON line, run by bench/extractors.sh.

    matmul_limit_torch.py [--threads 2] [--m 2048] [--n 4096] [--k 4096] [--repeat 3]
"""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--m", type=int, default=2048)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--k", type=int, default=4096)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(a.m, a.k, generator=g) * 2 - 1
    w = torch.rand(a.n, a.k, generator=g) * 2 - 1
    flops = 2.0 * a.m * a.n * a.k
    out = {"command": "torch-matmul-limit", "torch": torch.__version__, "threads": a.threads,
           "M": a.m, "N": a.n, "K": a.k}
    with torch.inference_mode():
        for name, dt in (("f32", torch.float32), ("bf16", torch.bfloat16)):
            xd, wd = x.to(dt), w.to(dt)
            torch.nn.functional.linear(xd, wd)
            best = float("inf")
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                torch.nn.functional.linear(xd, wd)
                best = min(best, time.perf_counter() - t0)
            out[name] = {"torch": flops / best / 1e9}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
