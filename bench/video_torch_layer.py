"""PyTorch comparison for bench/video_bench.cpp: one V-JEPA2 ViT-g encoder layer (hidden 1408,
22 heads, mlp 6144, 8192 tokens, 3-D RoPE omitted: it is < 0.1 % of the FLOPs) timed in float32
and in bfloat16 (torch.autocast), attention computed in query blocks of 512 so that memory stays
bounded like ours. Run by bench/video_bench.sh --torch (same lock, same machine, same run).

    /usr/bin/python3 bench/video_torch_layer.py [--threads N] [--repeat R]
"""
import argparse
import json
import math
import time

import torch


def layer_forward(x, p, heads, block=512):
    T, H = x.shape
    dh = H // heads
    h = torch.nn.functional.layer_norm(x, (H,), p["n1w"], p["n1b"], 1e-6)
    q = torch.nn.functional.linear(h, p["qw"], p["qb"]).view(T, heads, dh).transpose(0, 1)
    k = torch.nn.functional.linear(h, p["kw"], p["kb"]).view(T, heads, dh).transpose(0, 1)
    v = torch.nn.functional.linear(h, p["vw"], p["vb"]).view(T, heads, dh).transpose(0, 1)
    out = torch.empty(heads, T, dh, dtype=v.dtype)
    for q0 in range(0, T, block):
        s = torch.matmul(q[:, q0:q0 + block], k.transpose(1, 2)) * (1.0 / math.sqrt(dh))
        out[:, q0:q0 + block] = torch.matmul(torch.softmax(s, dim=-1), v)
    a = torch.nn.functional.linear(out.transpose(0, 1).reshape(T, H), p["pw"], p["pb"])
    x = x + a
    h = torch.nn.functional.layer_norm(x, (H,), p["n2w"], p["n2b"], 1e-6)
    h = torch.nn.functional.gelu(torch.nn.functional.linear(h, p["f1w"], p["f1b"]))
    return x + torch.nn.functional.linear(h, p["f2w"], p["f2b"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    H, F, heads, T = 1408, 6144, 22, 8192
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g) * 0.02
    p = {"n1w": 1 + r(H), "n1b": r(H), "n2w": 1 + r(H), "n2b": r(H),
         "qw": r(H, H), "qb": r(H), "kw": r(H, H), "kb": r(H), "vw": r(H, H), "vb": r(H),
         "pw": r(H, H), "pb": r(H), "f1w": r(F, H), "f1b": r(F), "f2w": r(H, F), "f2b": r(H)}
    x = torch.randn(T, H, generator=g)
    flops = 2 * T * H * 3 * H + 2 * T * H * H + 4 * T * T * H + 4 * T * H * F
    cpu = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "n/a")()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu capability {cpu}")
    with torch.inference_mode():
        for name, ctx in (("f32", None), ("bf16 autocast", torch.autocast("cpu", dtype=torch.bfloat16))):
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                if ctx is None:
                    layer_forward(x, p, heads)
                else:
                    with ctx:
                        layer_forward(x, p, heads)
                best = min(best, time.perf_counter() - t0)
            print(f"torch layer {name}: {best:.2f} s per layer -> {40 * best:.0f} s per 2 Hz bin (x40), "
                  f"{flops / best / 1e9:.0f} GFLOP/s")
            # One JSON line for bench/extractors.sh: a bin is 40 layers (the patch embedding,
            # < 0.1 % of the FLOPs, is not timed on this side).
            print(json.dumps({"command": "torch-video-layer", "torch": torch.__version__,
                              "dtype": "f32" if ctx is None else "bf16", "threads": torch.get_num_threads(),
                              "seconds_per_layer": best, "seconds_per_bin": 40 * best,
                              "gflop_per_s": flops / best / 1e9}), flush=True)


if __name__ == "__main__":
    main()
