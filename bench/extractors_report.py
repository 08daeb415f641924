#!/usr/bin/python3
"""Report of bench/extractors.sh: the JSON lines of one run -> a Markdown report next to them and
the extractors block of BENCHMARKS.md (between <!-- extractors:begin --> and <!-- extractors:end -->).
Every figure in that block comes from the .jsonl; nothing is typed by hand.

    extractors_report.py report RUN.jsonl [--benchmarks BENCHMARKS.md]
    extractors_report.py fidelity-npy NAME F32.npy BF16.npy     # one JSON line on stdout

Shares of the machine's matmul limit: the network's useful FLOPs (each bench states its count)
per second of our forward, over the best matmul rate measured in the same run at the same
precision (our GEMM, OpenBLAS sgemm, PyTorch linear; one large product, at the start and at the
end of the run: the larger counts).
"""
import argparse
import json
import os
import sys

import numpy as np

# Issue 16's targets.
TARGET_F32, TARGET_BF16 = 0.75, 0.65
# A 10-minute video with speech: 1,200 bins of 2 Hz video, 10 minutes of audio, the synthetic
# 1,500-word transcript (bench/text_bench make-words) through the text model.
VIDEO_BINS, AUDIO_MINUTES = 1200, 10.0


def fidelity_npy(name, f32_path, bf16_path):
    """Features stored with time on the last axis (the audio extractor's [groups, hidden, T])."""
    a, b = (np.load(p).astype(np.float64) for p in (f32_path, bf16_path))
    a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])  # rows: features, columns: time
    ac, bc = a2 - a2.mean(1, keepdims=True), b2 - b2.mean(1, keepdims=True)
    r = (ac * bc).sum(1) / np.sqrt((ac * ac).sum(1) * (bc * bc).sum(1))
    print(json.dumps({"command": f"{name}-fidelity", "shape": list(a.shape), "pearson_min": float(r.min()),
                      "pearson_median": float(np.median(r)),
                      "max_rel_error": float(np.abs(a - b).max() / np.abs(a).max())}))


def load(path):
    rows = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            sys.exit(f"{path}:{n}: not a JSON line ({e})")
    return rows


def pick(rows, command, **match):
    out = [r for r in rows if r.get("command") == command and all(r.get(k) == v for k, v in match.items())]
    return out


def last(rows, command):
    """The last line of `command`, or None when the run has none (optional steps)."""
    found = pick(rows, command)
    return found[-1] if found else None


def one(rows, command, **match):
    found = pick(rows, command, **match)
    if not found:
        sys.exit(f"extractors_report: no '{command}' line with {match} in the run (did a step fail?)")
    return found[-1]


def fmt(x, digits=3):
    if x is None:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_load(host):
    load = host.get("loadavg")
    return "[" + ", ".join(f"{x:.2f}" for x in load) + "]" if load else "?"


def build(rows, name):
    hosts = pick(rows, "host")
    before = next((h for h in hosts if h["when"] == "before"), hosts[0] if hosts else {})
    after = next((h for h in hosts if h["when"] == "after"), {})
    threads = before.get("threads")

    # The machine's limit per precision: best of every engine, start and end of the run.
    limit, best_by = {}, {}
    for prec in ("f32", "bf16"):
        for r in pick(rows, "matmul-limit") + pick(rows, "torch-matmul-limit"):
            for engine, rate in r.get(prec, {}).items():
                if rate * 1e9 > limit.get(prec, 0):
                    limit[prec], best_by[prec] = rate * 1e9, engine
    shape = one(rows, "matmul-limit")

    nets = []
    # Text: tokens/s of one forward.
    f32, b16 = one(rows, "forward", bf16=False), one(rows, "forward", bf16=True)
    t32, t16 = one(rows, "torch-forward", dtype="f32"), one(rows, "torch-forward", dtype="bf16")
    tokens = f32["tokens"]
    nets.append({
        "name": "text", "network": "Llama-3.2-3B", "unit": f"tokens/s (forward of {tokens} tokens)", "higher": True,
        "ours": {"f32": f32["tokens_per_s"], "bf16": b16["tokens_per_s"]},
        "torch": {"f32": t32["tokens_per_s"], "bf16": t16["tokens_per_s"]},
        "gflops": {"f32": f32["flops"] / f32["seconds"], "bf16": b16["flops"] / b16["seconds"]},
    })
    # Audio: compute seconds per minute of audio (model forward).
    a32, a16 = one(rows, "audio-forward", precision="f32"), one(rows, "audio-forward", precision="bf16")
    per_min = 60.0 / a32["seconds"]
    torch_audio = {}
    for d in ("f32", "bf16"):
        cands = pick(rows, "torch-audio-forward", dtype=d)
        if cands:  # the fastest PyTorch variant run (gathered relative_key unless --torch-hf)
            best = min(cands, key=lambda r: r["t_model"])
            torch_audio[d] = (best["t_model"] * per_min, best["relpos"])
    nets.append({
        "name": "audio", "network": "w2v-BERT 2.0", "unit": f"s of compute per minute of audio ({a32['seconds']:.0f} s timed)",
        "higher": False,
        "ours": {"f32": a32["t_model"] * per_min, "bf16": a16["t_model"] * per_min},
        "torch": {d: v[0] for d, v in torch_audio.items()},
        "torch_note": {d: v[1] for d, v in torch_audio.items()},
        "gflops": {"f32": a32["flops"] / a32["t_model"], "bf16": a16["flops"] / a16["t_model"]},
    })
    # Video: compute seconds per 2 Hz bin (40 layers extrapolated from the timed ones).
    v32, v16 = one(rows, "video-forward", precision="f32"), one(rows, "video-forward", precision="bf16")
    tv32, tv16 = one(rows, "torch-video-layer", dtype="f32"), one(rows, "torch-video-layer", dtype="bf16")
    nets.append({
        "name": "video", "network": "V-JEPA2 ViT-g",
        "unit": f"s of compute per 2 Hz bin ({v32['layers_timed']} of 40 layers timed)", "higher": False,
        "ours": {"f32": v32["seconds_per_bin"], "bf16": v16["seconds_per_bin"]},
        "torch": {"f32": tv32["seconds_per_bin"], "bf16": tv16["seconds_per_bin"]},
        "gflops": {"f32": v32["gflop_per_s"] * 1e9, "bf16": v16["gflop_per_s"] * 1e9},
        "shapes_limit": {"f32": v32["shapes_limit_gflop_per_s"] * 1e9, "bf16": v16["shapes_limit_gflop_per_s"] * 1e9},
    })
    for n in nets:
        n["share"] = {p: n["gflops"][p] / limit[p] for p in ("f32", "bf16")}
        # speed-up over PyTorch, same precision (>1: ours faster)
        n["speedup"] = {}
        for p, t in n["torch"].items():
            n["speedup"][p] = n["ours"][p] / t if n["higher"] else t / n["ours"][p]

    plan = one(rows, "plan")
    ten = {}
    for p in ("f32", "bf16"):
        text_h = plan["tokens_shared"] / nets[0]["ours"][p] / 3600
        audio_h = nets[1]["ours"][p] * AUDIO_MINUTES / 3600
        video_h = nets[2]["ours"][p] * VIDEO_BINS / 3600
        ten[p] = {"text": text_h, "audio": audio_h, "video": video_h, "total": text_h + audio_h + video_h}
    ten_torch = {}
    for p in ("f32", "bf16"):
        if all(p in n["torch"] for n in nets):
            text_h = plan["tokens_shared"] / nets[0]["torch"][p] / 3600
            ten_torch[p] = text_h + nets[1]["torch"][p] * AUDIO_MINUTES / 3600 + nets[2]["torch"][p] * VIDEO_BINS / 3600

    L = []
    w = L.append
    w(f"### Latest run: {name}")
    w("")
    w(f"- Command: `bench/extractors.sh{'' if threads == 2 else f' --threads {threads}'}` (also `bench/run.sh --extractors`); "
      f"full-size random-weight models, same weights and inputs for both engines, {threads} threads"
      + (" (**--quick**: not comparable)" if before.get("quick") else "") + ".")
    w(f"- CPU: {before.get('cpu', '?')}, {before.get('cores', '?')} cores ({', '.join(before.get('isa', []))}); "
      f"load average before {fmt_load(before)}, after {fmt_load(after)} (other jobs on a shared host "
      "inflate every number, ours and PyTorch's alike).")
    tv = one(rows, "torch-matmul-limit")
    w(f"- Machine matmul limit ({shape['M']} x {shape['N']} x {shape['K']}, best of start and end of the run): "
      f"f32 **{limit['f32'] / 1e9:.0f} GFLOP/s** ({best_by['f32']}), bf16 **{limit['bf16'] / 1e9:.0f} GFLOP/s** "
      f"({best_by['bf16']}). Engines: ours ({shape['kernels']} kernels), {shape.get('openblas_config', 'OpenBLAS')}, "
      f"PyTorch {tv.get('torch')}.")
    w("")
    w("| modality (network) | unit | ours f32 | PyTorch f32 | speed-up | share of f32 limit | ours bf16 | PyTorch bf16 | speed-up | share of bf16 limit |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in nets:
        cells = [f"{n['name']} ({n['network']})", n["unit"]]
        for p in ("f32", "bf16"):
            cells += [fmt(n["ours"][p]), fmt(n["torch"].get(p)),
                      f"{n['speedup'][p]:.2f}x" if p in n["speedup"] else "–",
                      f"{100 * n['share'][p]:.0f} % ({n['gflops'][p] / 1e9:.0f} GFLOP/s)"]
        w("| " + " | ".join(cells) + " |")
    w("")
    w("Speed-up: PyTorch's time over ours at the same precision (above 1: ours is faster). PyTorch sides: "
      "text `bench/text_llama_torch.py` (weights cast to the dtype), audio `bench/audio_w2vbert_torch.py` "
      f"(relative_key {', '.join(sorted(set(nets[1].get('torch_note', {}).values())))}; bf16 = autocast), "
      "video `bench/video_torch_layer.py` (one layer x 40; bf16 = autocast).")
    if "shapes_limit" in nets[2]:
        sl = nets[2]["shapes_limit"]
        w(f"V-JEPA2 on its own linear shapes' GEMM rate (ours, same run): f32 {100 * nets[2]['gflops']['f32'] / sl['f32']:.0f} %, "
          f"bf16 {100 * nets[2]['gflops']['bf16'] / sl['bf16']:.0f} % (the T x T attention half has no weights to reuse).")
    w("")
    w(f"**A 10-minute video with speech**, compute on these {threads} threads: video {VIDEO_BINS:,} bins, audio "
      f"{AUDIO_MINUTES:.0f} minutes, text {plan['words']:,} words = {plan['tokens_shared']:,} tokens through the model "
      "(shared-prefix path, at the forward's tokens/s):")
    w("")
    w("| precision | text h | audio h | video h | total h | video share | PyTorch total h |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for p in ("f32", "bf16"):
        t = ten[p]
        w(f"| {p} | {t['text']:.2f} | {t['audio']:.2f} | {t['video']:.1f} | **{t['total']:.1f}** | "
          f"{100 * t['video'] / t['total']:.0f} % | {fmt(ten_torch.get(p))} |")
    w("")
    fid = []
    if f := last(rows, "fidelity"):
        fid.append(f"text (word features of {f['words']} words): Pearson r min {f['bf16']['pearson_min']:.5f}, "
                   f"max rel err {f['bf16']['max_rel_error']:.1e} (with `--llama-precision bf16` too: "
                   f"{f['bf16_llama_bf16']['pearson_min']:.5f}, {f['bf16_llama_bf16']['max_rel_error']:.1e})")
    if f := last(rows, "audio-fidelity"):
        fid.append(f"audio (grouped 2 Hz features, shape {f['shape']}, per feature over time): r min {f['pearson_min']:.5f}, median "
                   f"{f['pearson_median']:.5f}, max rel err {f['max_rel_error']:.1e}")
    if f := last(rows, "video-fidelity"):
        fid.append(f"video ({f['layers']} layers, last hidden state over {f['tokens']:,} tokens): r min "
                   f"{f['pearson_min']:.5f}, max rel err {f['max_rel_error']:.1e}; token-mean features "
                   f"{f['mean_max_rel_error']:.1e}")
    if fid:
        w("bf16 against our f32, same weights and input (per-feature Pearson r over rows, max |bf16 − f32| / max |f32|): "
          + "; ".join(fid) + ".")
        w("")
    w("Targets of issue 16 in this run:")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    for n in nets:
        for p, tgt in (("f32", TARGET_F32), ("bf16", TARGET_BF16)):
            ok = n["share"][p] >= tgt
            w(f"| {n['name']} {p} >= {100 * tgt:.0f} % of the {p} matmul limit | {100 * n['share'][p]:.1f} % | "
              f"{'yes' if ok else '**no**'} |")
        for p, s in n["speedup"].items():
            w(f"| {n['name']} {p} faster than PyTorch {p} | {s:.2f}x | {'yes' if s > 1 else '**no**'} |")
    return "\n".join(L) + "\n", {"limit": limit, "nets": nets, "ten_minutes": ten}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "fidelity-npy":
        if len(sys.argv) != 5:
            sys.exit("usage: extractors_report.py fidelity-npy NAME F32.npy BF16.npy")
        fidelity_npy(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["report"])
    ap.add_argument("jsonl")
    ap.add_argument("--benchmarks")
    a = ap.parse_args()
    name = os.path.basename(a.jsonl).removeprefix("extractors-").removesuffix(".jsonl")
    md, _ = build(load(a.jsonl), name)
    md_path = a.jsonl.removesuffix(".jsonl") + ".md"
    open(md_path, "w").write("# Feature extractors, ours and PyTorch (bench/extractors.sh)\n\n" + md)
    if a.benchmarks:
        text = open(a.benchmarks).read()
        begin, end = "<!-- extractors:begin -->", "<!-- extractors:end -->"
        if begin not in text or end not in text:
            sys.exit(f"{a.benchmarks}: no {begin} ... {end} block to replace")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(a.benchmarks, "w").write(head + begin + "\n" + md + end + tail)
    print(md)


if __name__ == "__main__":
    main()
