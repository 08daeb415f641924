#!/usr/bin/env python3
"""Plain-PyTorch Wav2Vec2BertModel forward: the speed baseline of the audio benchmark.

Debian's torch 1.13 has no transformers/Wav2Vec2Bert, so this re-implements HuggingFace's
forward (eval mode, output_hidden_states=True) on the same folder the C++ engine reads
(config.json + model.safetensors). The relative_key term is computed as HF does
(distance_embedding gathered to [T, T, head_dim], then einsum), or with --relpos gather as a
lighter equivalent (q . E for the 73 distances, then a gather).

  audio_w2vbert_torch.py check FIXTURES_AUDIO_DIR      # hidden states vs the fixture golden
  audio_w2vbert_torch.py time MODEL_DIR --features F.npy [--threads N] [--relpos hf|gather]
                         [--dtype f32|bf16] [--json OUT]

--dtype bf16 runs the forward under torch.autocast("cpu", dtype=torch.bfloat16) (linear layers,
matmuls and convolutions in bf16, norms and softmax in float32), as a bf16 PyTorch user would.
"""
import argparse, json, math, resource, sys, time

import numpy as np
import torch
import torch.nn.functional as F

from safetensors_torch import load_safetensors


class W2vBert:
    def __init__(self, folder, relpos="hf"):
        self.cfg = json.load(open(f"{folder}/config.json"))
        self.w = load_safetensors(f"{folder}/model.safetensors")
        self.relpos = relpos

    def ln(self, x, name):
        # float(): a no-op in f32; under bf16 autocast the norms stay float32 (torch 1.13 does not
        # cast layer_norm inputs itself).
        return F.layer_norm(x.float(), (x.shape[-1],), self.w[name + ".weight"], self.w[name + ".bias"], self.cfg["layer_norm_eps"])

    def lin(self, x, name, bias=True):
        return F.linear(x, self.w[name + ".weight"].reshape(self.w[name + ".weight"].shape[0], -1),
                        self.w[name + ".bias"] if bias else None)

    def ffn(self, x, p):
        return self.lin(F.silu(self.lin(x, p + ".intermediate_dense")), p + ".output_dense")

    def attn(self, x, p):
        T, H = x.shape
        h = self.cfg["num_attention_heads"]
        d = H // h
        q = self.lin(x, p + ".linear_q").view(T, h, d).transpose(0, 1)
        k = self.lin(x, p + ".linear_k").view(T, h, d).transpose(0, 1)
        v = self.lin(x, p + ".linear_v").view(T, h, d).transpose(0, 1)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)
        left, right = self.cfg["left_max_position_embeddings"], self.cfg["right_max_position_embeddings"]
        pos = torch.arange(T)
        dist = torch.clamp(pos.view(1, -1) - pos.view(-1, 1), -left, right) + left  # [l, r]
        E = self.w[p + ".distance_embedding.weight"]
        if self.relpos == "hf":
            pe = F.embedding(dist, E)  # [T, T, d], as HF builds it
            rel = torch.einsum("hld,lrd->hlr", q, pe)
        else:
            P = torch.matmul(q, E.t())  # [h, T, 73]
            rel = torch.gather(P, 2, dist.unsqueeze(0).expand(h, T, T))
        scores = scores + rel / math.sqrt(d)
        probs = torch.softmax(scores, dim=-1)
        o = torch.matmul(probs, v).transpose(0, 1).reshape(T, H)
        return self.lin(o, p + ".linear_out")

    def conv(self, x, p):
        T, H = x.shape
        y = self.ln(x, p + ".layer_norm")
        y = self.lin(y, p + ".pointwise_conv1", bias=False)  # [T, 2H]
        y = F.glu(y.t().unsqueeze(0), dim=1)  # [1, H, T]
        K = self.cfg["conv_depthwise_kernel_size"]
        y = F.conv1d(F.pad(y, (K - 1, 0)), self.w[p + ".depthwise_conv.weight"], groups=H)
        y = self.ln(y[0].t(), p + ".depthwise_layer_norm")
        y = F.silu(y)
        return self.lin(y, p + ".pointwise_conv2", bias=False)

    @torch.no_grad()
    def forward(self, feats):
        x = self.lin(self.ln(feats, "feature_projection.layer_norm"), "feature_projection.projection")
        hidden = [x]
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layers.{i}"
            x = self.ffn(self.ln(x, p + ".ffn1_layer_norm"), p + ".ffn1") * 0.5 + x
            x = self.attn(self.ln(x, p + ".self_attn_layer_norm"), p + ".self_attn") + x
            x = x + self.conv(x, p + ".conv_module")
            x = self.ffn(self.ln(x, p + ".ffn2_layer_norm"), p + ".ffn2") * 0.5 + x
            x = self.ln(x, p + ".final_layer_norm")
            hidden.append(x)
        return hidden


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["check", "time"])
    ap.add_argument("folder")
    ap.add_argument("--features")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--relpos", choices=["hf", "gather"], default="hf")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.mode == "check":
        worst = 0.0
        for relpos in ("hf", "gather"):
            m = W2vBert(f"{a.folder}/tiny-w2v-bert", relpos)
            for clip in ("mono16k", "stereo44k"):
                feats = torch.from_numpy(np.load(f"{a.folder}/{clip}/fbank_input_features.npy"))
                want = np.load(f"{a.folder}/{clip}/hidden_states.npy")
                got = torch.stack(m.forward(feats)).numpy()
                for i in range(want.shape[0]):
                    worst = max(worst, float(np.abs(got[i] - want[i]).max() / np.abs(want[i]).max()))
        print(f"torch re-implementation vs fixture hidden states: worst max rel diff {worst:.3g}")
        sys.exit(0 if worst <= 1e-4 else 1)
    m = W2vBert(a.folder, a.relpos)
    feats = torch.from_numpy(np.load(a.features))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16")
    with torch.inference_mode(), autocast:
        t0 = time.time()
        hidden = m.forward(feats)
        groups = torch.stack([torch.stack(hidden[12:18]).mean(0), torch.stack(hidden[18:25]).mean(0)]).float()
        t = time.time() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch {torch.__version__}, {a.threads} threads, relpos={a.relpos}, {a.dtype}: model forward + groups {t:.3f} s "
          f"for T50={feats.shape[0]}; peak RSS {rss:.0f} MB; finite {bool(torch.isfinite(groups).all())}")
    if a.json:
        json.dump({"command": "torch-audio-forward", "torch": torch.__version__, "t_model": t, "threads": a.threads,
                   "relpos": a.relpos, "dtype": a.dtype, "peak_rss_mb": rss, "T50": int(feats.shape[0])},
                  open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()
