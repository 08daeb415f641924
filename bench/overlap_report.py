#!/usr/bin/env python3
"""Tabulates bench/overlap.sh's runs: forward passes (segments in <stem>_segments.json: one
forward of one 100-TR window each), wall time (median), peak RSS, the cost against K = 0 and the
expected 1 / (1 - K/100); checks that every K gives the same rows and times as K = 0 and that
the first segment's rows are identical. Writes bench/results/overlap-<date>-<host>.{json,md}
and replaces the overlap block of BENCHMARKS.md."""
import argparse, datetime, json, os, platform, socket, statistics, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import doc_block  # noqa: E402

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--runs", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--seconds", type=float, required=True)
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--baseline", default="")
ap.add_argument("--baseline-result", default="")
ap.add_argument("--ks", required=True)
a = ap.parse_args()

ks = [int(k) for k in a.ks.split()]
runs = {}
with open(a.runs) as f:
    next(f)
    for line in f:
        k, _, wall, rss = line.split("\t")
        runs.setdefault(int(k), []).append((float(wall), int(rss)))
segs = {k: json.load(open(os.path.join(a.dir, f"k{k}_segments.json"))) for k in ks}
preds = {k: np.load(os.path.join(a.dir, f"k{k}.npy"), mmap_mode="r") for k in ks}
ref = ks[0]
seg_trs = segs[ref]["segments"][0]["duration"] / segs[ref]["tr_s"]
rows = []
for k in ks:
    wall = statistics.median(w for w, _ in runs[k])
    rss = max(r for _, r in runs[k]) / 1024
    n_fwd = len(segs[k]["segments"])
    same_rows = segs[k]["rows"] == segs[ref]["rows"] and preds[k].shape == preds[ref].shape
    first = int(seg_trs)
    same_first = bool(np.array_equal(preds[k][:first], preds[ref][:first]))
    rows.append({"k": k, "forward_passes": n_fwd, "wall_s_median": wall, "runs": len(runs[k]), "peak_rss_mib": rss,
                 "n_rows": int(preds[k].shape[0]), "rows_and_times_as_k0": same_rows, "first_segment_identical": same_first})
base = next(r for r in rows if r["k"] == ref)
for r in rows:
    r["passes_x"] = r["forward_passes"] / base["forward_passes"]
    r["wall_x"] = r["wall_s_median"] / base["wall_s_median"]
    r["expected_x"] = 1.0 / (1.0 - r["k"] / seg_trs)

host = socket.gethostname()
date = datetime.date.today().isoformat()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
load = os.getloadavg()
dur = a.seconds
title = f"{dur / 3600:g} hour" if dur >= 3600 and dur % 3600 == 0 else f"{dur:g} s"
md = [f"### Overlapping segments (`predict --overlap-trs K`), {title} of features, run {date}-{host}", "",
      f"- Command: `bench/overlap.sh --seconds {dur:g} --threads {a.threads}"
      + (f" --baseline {a.baseline}" if a.baseline else "") + "`; published-size random-weight model (F32 "
      "safetensors), random 2 Hz features for text, audio and video; `tribev2 predict` CLI end to end "
      "(load, read, predict, write), wall time = median of the runs.",
      f"- CPU: {cpu}, {os.cpu_count()} cores, {a.threads} threads; load average after the runs "
      f"{[round(x, 2) for x in load]} (a loaded, shared machine inflates the wall times; the forward-pass "
      "counts do not depend on it).",
      "- Forward passes = segments run (one 100-TR window each, batched 8 at a time); expected cost "
      "x 1/(1 - K/100).", ""]
md.append("| K (TRs) | forward passes | x K=0 | expected x | wall s (median) | runs | x K=0 | peak RSS MiB | rows | rows/times = K=0 | first segment identical |")
md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
for r in rows:
    md.append(f"| {r['k']} | {r['forward_passes']} | {r['passes_x']:.2f} | {r['expected_x']:.2f} | {r['wall_s_median']:.2f} | "
              f"{r['runs']} | {r['wall_x']:.2f} | {r['peak_rss_mib']:.0f} | {r['n_rows']} | {r['rows_and_times_as_k0']} | "
              f"{r['first_segment_identical']} |")
if a.baseline:
    md += ["", f"K = 0 output against the baseline binary's plain `predict` (`{a.baseline}`): **{a.baseline_result}** (byte comparison of the .npy)."]
text = "\n".join(md) + "\n"
os.makedirs("bench/results", exist_ok=True)
stem = f"bench/results/overlap-{date}-{host}"
json.dump({"date": date, "host": host, "cpu": cpu, "threads": a.threads, "seconds": dur, "load_after": load,
           "baseline": a.baseline, "baseline_k0": a.baseline_result, "rows": rows}, open(stem + ".json", "w"), indent=1)
open(stem + ".md", "w").write(text)
doc_block.replace_block("BENCHMARKS.md", "overlap", text, missing="append",
                        heading="## Overlapping segments (issue 13)\n\nProduced by `bench/overlap.sh` (see "
                                "docs/prediction.md); do not edit by hand.\n\n")
print(text)
