#!/usr/bin/env python3
"""Turns a bench/results/<stem>.json written by run_bench.py into <stem>.md (tables) and
<stem>-*.png (charts). Needs matplotlib (Debian python3-matplotlib) for the charts only.

  report.py bench/results/2025-01-01-host.json
"""
import json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import doc_block  # noqa: E402


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def limit_ms(res, T, B, th, which):
    rows = res["gemm"].get(f"{T}x{B}/{th}", [])
    mix = [r for r in rows if r.get("shape") == "forward_mix"]
    if not mix:
        return None
    # Our forward's FLOPs (pooled head) at the measured sgemm throughput of the same shapes.
    gflop = res["flops"][f"{T}x{B}"]["ours"]["total"] / 1e9
    return gflop / mix[0][f"{which}_gflops"] * 1e3


def main():
    path = sys.argv[1]
    res = json.load(open(path))
    stem = path[:-5]
    name = os.path.basename(stem)
    L = []
    L.append(f"# Brain-model CPU benchmark: {name}\n")
    L.append(f"- CPU: {res['cpu_model']}, {res['cores']} cores; load average before {res['load_before']}, "
             f"after {res['load_after']} (a loaded machine inflates every number, PyTorch's and ours alike).")
    feats = next((c["f32"]["cpu"] for c in res["cases"] if "f32" in c), "?")
    L.append(f"- Kernels used (runtime dispatch): `{feats}`")
    L.append(f"- PyTorch {res['torch_version']} (Debian, OpenBLAS + OpenMP); best 2-core setting: "
             f"{res['torch_best_setting']['2']}; 1 core: {res['torch_best_setting']['1']}.")
    L.append(f"- Model: published size, random weights, F32 file {res['model_file_mb']:.0f} MiB "
             f"(BF16 file {res['model_bf16_file_mb']:.0f} MiB). Medians of {res['repeat']} runs after warm-up.\n")

    L.append("## PyTorch thread settings (T=200, batch 1)\n")
    L.append("| setting | median ms | min ms | peak RSS MB |")
    L.append("|---|---:|---:|---:|")
    for r in res["torch_settings"]:
        L.append(f"| {r['setting']} | {fmt(r['median_ms'])} | {fmt(r['min_ms'])} | {fmt(r['peak_rss_mb'], 0)} |")

    L.append("\n## Forward latency per case\n")
    L.append("ms per forward call (the whole batch). Ratio = ours / PyTorch (same core count, PyTorch's best "
             "setting). GEMM limit = our forward's FLOPs / sgemm throughput measured in this run on the same "
             "shapes (OpenBLAS, and our kernels).\n")
    L.append("| T | batch | threads | PyTorch | ours f32 | ratio | GFLOP/s | limit OpenBLAS | limit ours | "
             "ours / limit OpenBLAS | ours bf16 | bf16 ratio | peak RSS f32 MB |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in res["cases"]:
        T, B, th = c["T"], c["batch"], c["threads"]
        tp = c["torch"]["median_ms"]
        f = c["f32"]
        b = c.get("bf16")
        lo, lu = limit_ms(res, T, B, th, "openblas"), limit_ms(res, T, B, th, "ours")
        L.append(f"| {T} | {B} | {th} | {fmt(tp)} | {fmt(f['median_ms'])} | {fmt(f['median_ms'] / tp, 2)} | "
                 f"{fmt(f['gflops'])} | {fmt(lo)} | {fmt(lu)} | {fmt(f['median_ms'] / lo if lo else None, 2)} | "
                 f"{fmt(b['median_ms'] if b else None)} | {fmt(b['median_ms'] / tp if b else None, 2)} | "
                 f"{fmt(f['process_peak_rss_mb'], 0)} |")
    bw = next((c["bf16w"] for c in res["cases"] if "bf16w" in c), None)
    if bw:
        L.append(f"\nbf16 compute from the BF16 weights file (T=200, batch 1, 2 threads): "
                 f"{fmt(bw['median_ms'])} ms, peak RSS {fmt(bw['process_peak_rss_mb'], 0)} MB.")

    L.append("\n## sgemm throughput on the forward's shapes (GFLOP/s, T=200, batch 1)\n")
    L.append("| shape | M | N | K | threads | OpenBLAS | ours |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for th in (1, 2):
        for r in res["gemm"].get(f"200x1/{th}", []):
            if r["shape"] != "forward_mix":
                L.append(f"| {r['shape']} | {r['M']} | {r['N']} | {r['K']} | {th} | {fmt(r['openblas_gflops'])} | "
                         f"{fmt(r['ours_gflops'])} |")

    p = res["parity"]
    L.append("\n## Exactness (T=200, batch 2, same inputs)\n")
    L.append(f"- f32: max |ours - PyTorch| = {p['max_abs_diff']:.3g} = {p['rel_to_max']:.2e} x max |PyTorch| "
             f"(target <= 1e-4).")
    for k, label in (("bf16", "bf16 compute, F32 weights"), ("bf16w", "bf16 compute, BF16 weights file")):
        q = p[k]
        L.append(f"- {label} vs our f32: per-row Pearson r min {q['min_row_pearson']:.6f} (median "
                 f"{q['median_row_pearson']:.7f}); max |bf16 - f32| = {q['max_rel_err_to_max']:.2e} x max |f32|.")

    L.append("\n## Start-up (process start to ready to predict, warm page cache)\n")
    L.append("| model | process s | load s | peak RSS MB |")
    L.append("|---|---:|---:|---:|")
    for k, v in res["startup"].items():
        L.append(f"| {k} | {v['process_s']:.3f} | {v['load_s']:.3f} | {v['peak_rss_mb']:.0f} |")

    h = res["predict_1h"]
    L.append("\n## One hour of features (7,200 steps, 36 segments), end to end\n")
    L.append("| engine | wall s (median) | runs | peak RSS MB |")
    L.append("|---|---:|---:|---:|")
    L.append(f"| `tribev2 predict` (CLI, 2 threads) | {h['ours_cli']['wall_s']:.2f} | {h['ours_cli']['runs']} | "
             f"{h['ours_cli']['peak_rss_mb']:.0f} |")
    L.append(f"| predict with streamed output (bench driver) | {h['ours_stream']['wall_s']:.2f} | "
             f"{h['ours_stream']['runs']} | {h['ours_stream']['peak_rss_mb']:.0f} |")
    L.append(f"| PyTorch loop ({h['torch_setting']}) | {h['torch']['wall_s']:.2f} | {h['torch']['runs']} | "
             f"{h['torch']['peak_rss_mb']:.0f} |")
    if "predict_10min" in res:
        t = res["predict_10min"]
        L.append(f"| `tribev2 predict`, 10-minute clip (CLI, 2 threads) | {t['wall_s']:.2f} | {t['runs']} | "
                 f"{t['peak_rss_mb']:.0f} |")
    L.append(f"\nSpeed-up {h['torch']['wall_s'] / h['ours_cli']['wall_s']:.2f}x; outputs "
             f"{h['parity']['rel_to_max']:.2e} x max apart; streamed = CLI output: {h['parity']['stream_equals_cli']}.")

    L.append("\n" + targets(res))
    charts = make_charts(res, stem)
    md = "\n".join(L) + "\n"
    chart_md = "".join(f"\n![{os.path.basename(c)}]({{}}{os.path.basename(c)})\n" for c in charts)
    open(stem + ".md", "w").write(md + ("\n## Charts\n" + chart_md.replace("{}", "") if charts else ""))
    # BENCHMARKS.md (repository root) shows the latest run between its markers.
    bm = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(stem))), "..", "BENCHMARKS.md")
    bm = os.path.normpath(bm)
    if os.path.exists(bm):
        body = md.replace("# Brain-model CPU benchmark", "### Latest run") + (
            "\n#### Charts\n" + chart_md.replace("{}", "bench/results/") if charts else "")
        doc_block.replace_block(bm, "results", body, missing="skip")


def targets(res):
    """The issue's targets, checked against this run."""
    c = {(x["T"], x["batch"], x["threads"]): x for x in res["cases"]}
    out = ["## Targets (issue 3) in this run\n", "| target | measured | met |", "|---|---|---|"]

    def row(name, value, ok):
        out.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")

    if (200, 1, 2) in c:
        x = c[(200, 1, 2)]
        r = x["f32"]["median_ms"] / x["torch"]["median_ms"]
        row("F32 T=200 b=1, 2 threads <= 0.65 x PyTorch best", f"{x['f32']['median_ms']:.1f} ms = {r:.2f} x", r <= 0.65)
        lo = limit_ms(res, 200, 1, 2, "openblas")
        if lo:
            q = x["f32"]["median_ms"] / lo
            row("... within 1.25 x the GEMM-bound limit (OpenBLAS sgemm)", f"{q:.2f} x ({lo:.1f} ms)", q <= 1.25)
        rb = x["bf16"]["median_ms"] / x["torch"]["median_ms"]
        row("bf16 T=200 b=1, 2 threads <= 0.4 x PyTorch F32 best", f"{x['bf16']['median_ms']:.1f} ms = {rb:.2f} x",
            rb <= 0.4)
    if (200, 1, 1) in c:
        x = c[(200, 1, 1)]
        r = x["f32"]["median_ms"] / x["torch"]["median_ms"]
        row("F32 T=200 b=1, 1 thread <= 0.8 x PyTorch 1 thread", f"{x['f32']['median_ms']:.1f} ms = {r:.2f} x", r <= 0.8)
    p = res["parity"]
    row("max |ours - PyTorch| <= 1e-4 x max |PyTorch|", f"{p['rel_to_max']:.1e}", p["rel_to_max"] <= 1e-4)
    row("bf16 per-row Pearson r >= 0.9999", f"{p['bf16']['min_row_pearson']:.6f} (max rel err "
        f"{p['bf16']['max_rel_err_to_max']:.1e})", p["bf16"]["min_row_pearson"] >= 0.9999)
    mb = 250e6 / 2**20
    h = res["predict_1h"]
    lim = res["model_file_mb"] + mb
    row("predict peak RSS <= F32 file + 250 MB (CLI, 1 h)", f"{h['ours_cli']['peak_rss_mb']:.0f} MiB (limit {lim:.0f})",
        h["ours_cli"]["peak_rss_mb"] <= lim)
    row("... with streamed output (1 h)", f"{h['ours_stream']['peak_rss_mb']:.0f} MiB", h["ours_stream"]["peak_rss_mb"] <= lim)
    bw = next((x["bf16w"] for x in res["cases"] if "bf16w" in x), None)
    if bw:
        lim16 = 0.6 * res["model_file_mb"] + mb
        row("bf16 weights: peak RSS <= 0.6 x F32 file + 250 MB (forward T=200)",
            f"{bw['process_peak_rss_mb']:.0f} MiB (limit {lim16:.0f})", bw["process_peak_rss_mb"] <= lim16)
    st = res["startup"]
    if "safetensors_f32" in st:
        row("start-up <= 0.5 s (F32 safetensors)", f"{st['safetensors_f32']['process_s']:.3f} s",
            st["safetensors_f32"]["process_s"] <= 0.5)
    if "best_ckpt_f32" in st:
        row("start-up <= 2 s (best.ckpt)", f"{st['best_ckpt_f32']['process_s']:.3f} s", st["best_ckpt_f32"]["process_s"] <= 2)
    if "predict_10min" in res:
        t = res["predict_10min"]
        row("predict peak RSS <= F32 file + 250 MB (CLI, 10-minute clip)", f"{t['peak_rss_mb']:.0f} MiB (limit {lim:.0f})",
            t["peak_rss_mb"] <= lim)
    sp = h["torch"]["wall_s"] / h["ours_cli"]["wall_s"]
    row("1-hour predict >= 1.5 x faster than the PyTorch loop", f"{sp:.2f} x", sp >= 1.5)
    return "\n".join(out) + "\n"


def make_charts(res, stem):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out = []
    cases = res["cases"]
    # Latency per case (2 threads).
    fig, ax = plt.subplots(figsize=(9, 4))
    c2 = [c for c in cases if c["threads"] == 2]
    labels = [f"T={c['T']}\nB={c['batch']}" for c in c2]
    x = range(len(c2))
    w = 0.27
    ax.bar([i - w for i in x], [c["torch"]["median_ms"] for c in c2], w, label="PyTorch (best 2-core)")
    ax.bar(list(x), [c["f32"]["median_ms"] for c in c2], w, label="ours f32")
    ax.bar([i + w for i in x], [c["bf16"]["median_ms"] for c in c2], w, label="ours bf16")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_ylabel("ms per forward")
    ax.set_yscale("log")
    ax.set_title("Forward latency, 2 threads")
    ax.legend()
    fig.tight_layout()
    out.append(stem + "-latency.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    # Scaling with T (batch 1) and with batch (T=200): ms per segment-equivalent.
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    for th, style in ((1, "--"), (2, "-")):
        ct = sorted([c for c in cases if c["threads"] == th and c["batch"] == 1], key=lambda c: c["T"])
        for key, lab in (("torch", "PyTorch"), ("f32", "ours f32"), ("bf16", "ours bf16")):
            axs[0].plot([c["T"] for c in ct], [c[key]["median_ms"] for c in ct], style, marker="o",
                        label=f"{lab}, {th} thr")
        cb = sorted([c for c in cases if c["threads"] == th and c["T"] == 200], key=lambda c: c["batch"])
        for key, lab in (("torch", "PyTorch"), ("f32", "ours f32"), ("bf16", "ours bf16")):
            axs[1].plot([c["batch"] for c in cb], [c[key]["median_ms"] / c["batch"] for c in cb], style, marker="o",
                        label=f"{lab}, {th} thr")
    axs[0].set_xlabel("T (steps)")
    axs[0].set_ylabel("ms per forward (batch 1)")
    axs[0].set_xscale("log")
    axs[0].set_yscale("log")
    axs[1].set_xlabel("batch (segments of T=200)")
    axs[1].set_ylabel("ms per segment")
    axs[1].set_xscale("log")
    for ax in axs:
        ax.grid(alpha=0.3)
    axs[1].legend(fontsize=7)
    fig.tight_layout()
    out.append(stem + "-scaling.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    # Peak memory.
    fig, ax = plt.subplots(figsize=(8, 3.5))
    h = res["predict_1h"]
    items = [("PyTorch T=200", next(c["torch"]["peak_rss_mb"] for c in cases if (c["T"], c["batch"], c["threads"]) == (200, 1, 2))),
             ("ours f32 T=200", next(c["f32"]["process_peak_rss_mb"] for c in cases if (c["T"], c["batch"], c["threads"]) == (200, 1, 2))),
             ("ours bf16 (BF16 file)", next((c["bf16w"]["process_peak_rss_mb"] for c in cases if "bf16w" in c), 0)),
             ("predict 1 h CLI", h["ours_cli"]["peak_rss_mb"]), ("predict 1 h stream", h["ours_stream"]["peak_rss_mb"]),
             ("PyTorch loop 1 h", h["torch"]["peak_rss_mb"])]
    ax.barh([i[0] for i in items], [i[1] for i in items])
    ax.axvline(res["model_file_mb"] + 250e6 / 2**20, color="r", ls="--", label="F32 file + 250 MB")
    ax.axvline(0.6 * res["model_file_mb"] + 250e6 / 2**20, color="g", ls=":", label="0.6 x F32 file + 250 MB")
    ax.set_xlabel("peak RSS (MB)")
    ax.legend()
    fig.tight_layout()
    out.append(stem + "-memory.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    return out


if __name__ == "__main__":
    main()
