#!/usr/bin/python3
"""Plain-PyTorch Llama forward: the speed baseline of the text benchmark (bench/text_bench.sh).

Debian's torch 1.13 has no transformers, so this is HuggingFace's LlamaModel forward (eval,
output_hidden_states=True: every layer's hidden states, what the text extractor keeps) written
out on the same folder the C++ engine reads (config.json + sharded model.safetensors): RMSNorm,
llama3-scaled rotary embeddings in the rotate-half layout, grouped-query attention with a
causal mask, SiLU-gated MLP. Weights are loaded as stored (bf16) and cast once to the compute
dtype: float32 (--dtype f32, what a CPU user of transformers gets by default) or bfloat16.

  text_llama_torch.py MODEL_DIR --tokens 512 [--dtype f32|bf16] [--threads 2]

Prints one JSON line like text_bench's `forward` ({"command": "torch-forward", ...}).
"""
import argparse
import json
import math
import resource
import time

import torch

from safetensors_torch import load_safetensors


def llama3_inv_freq(cfg):
    hd = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type") == "llama3":
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        mid = (1 - smooth) * scaled / factor + smooth * scaled
        is_mid = (wavelen >= old / hi) & (wavelen <= old / lo)
        inv = torch.where(is_mid, mid, scaled)
    return inv.float()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--tokens", type=int, default=512)
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dt = torch.float32 if a.dtype == "f32" else torch.bfloat16
    cfg = json.load(open(f"{a.model}/config.json"))
    index = json.load(open(f"{a.model}/model.safetensors.index.json"))["weight_map"]
    t0 = time.perf_counter()
    w = {}
    for shard in sorted(set(index.values())):
        for k, t in load_safetensors(f"{a.model}/{shard}", widen=False).items():
            # The embedding stays as stored (only the looked-up rows are cast), as in HF a
            # gather, not a matmul.
            w[k] = t if k == "model.embed_tokens.weight" else t.to(dt)
    load_s = time.perf_counter() - t0

    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", H // nh)
    eps = cfg["rms_norm_eps"]
    T = a.tokens
    ids = torch.tensor([300 + i % 500 for i in range(T)])
    inv = llama3_inv_freq(cfg)
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    cos = torch.cat((ang.cos(), ang.cos()), -1).to(dt)
    sin = torch.cat((ang.sin(), ang.sin()), -1).to(dt)
    mask = torch.full((T, T), float("-inf")).triu(1).to(dt)

    with torch.no_grad():
        t0 = time.perf_counter()
        x = w["model.embed_tokens.weight"][ids].to(dt)
        states = [x]
        for l in range(cfg["num_hidden_layers"]):
            p_ = f"model.layers.{l}."
            h = rms_norm(x, w[p_ + "input_layernorm.weight"], eps)
            q = (h @ w[p_ + "self_attn.q_proj.weight"].T).view(T, nh, hd).transpose(0, 1)
            k = (h @ w[p_ + "self_attn.k_proj.weight"].T).view(T, nkv, hd).transpose(0, 1)
            v = (h @ w[p_ + "self_attn.v_proj.weight"].T).view(T, nkv, hd).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(nh // nkv, dim=0)
            v = v.repeat_interleave(nh // nkv, dim=0)
            s = (q @ k.transpose(1, 2)) / math.sqrt(hd) + mask
            att = torch.softmax(s.float(), dim=-1).to(dt) @ v
            x = x + att.transpose(0, 1).reshape(T, nh * hd) @ w[p_ + "self_attn.o_proj.weight"].T
            h = rms_norm(x, w[p_ + "post_attention_layernorm.weight"], eps)
            g = torch.nn.functional.silu(h @ w[p_ + "mlp.gate_proj.weight"].T) * (h @ w[p_ + "mlp.up_proj.weight"].T)
            x = x + g @ w[p_ + "mlp.down_proj.weight"].T
            states.append(x)
        states[-1] = rms_norm(x, w["model.norm.weight"], eps)
        seconds = time.perf_counter() - t0
    print(json.dumps({"command": "torch-forward", "torch": torch.__version__, "dtype": a.dtype, "tokens": T,
                      "threads": a.threads, "seconds": seconds, "tokens_per_s": T / seconds, "load_s": load_s,
                      "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}), flush=True)


if __name__ == "__main__":
    main()
