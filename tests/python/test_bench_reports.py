"""bench/extractors_report.py on a synthetic run: the figures it writes are derived from the JSON
lines as the docs say (shares of the matmul limit, speed-ups, the 10-minute-video hours), the
BENCHMARKS.md block between the markers is replaced and nothing else, and a broken run gets a
clear error. The benchmark itself is never run here."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

SRC = os.environ.get("TRIBEV2_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
REPORT = os.path.join(SRC, "bench", "extractors_report.py")

RUN = [
    {"command": "host", "when": "before", "loadavg": [0.1, 0.2, 0.3], "cpu": "Test CPU", "cores": 2, "threads": 2,
     "quick": False, "isa": ["avx2"]},
    {"command": "matmul-limit", "threads": 2, "M": 2048, "N": 4096, "K": 4096, "kernels": "avx2",
     "f32": {"ours": 400.0, "openblas": 250.0}, "bf16": {"ours": 800.0}, "openblas_config": "OpenBLAS test"},
    {"command": "torch-matmul-limit", "torch": "1.13", "threads": 2, "M": 2048, "N": 4096, "K": 4096,
     "f32": {"torch": 240.0}, "bf16": {"torch": 900.0}},
    {"command": "plan", "words": 1500, "tokens_shared": 360000},
    # text: 2.5e12 FLOP in 10 s = 250 GFLOP/s = 62.5 % of 400; bf16 in 5 s = 500 GFLOP/s = 55.6 % of 900
    {"command": "forward", "tokens": 500, "bf16": False, "seconds": 10.0, "tokens_per_s": 50.0, "flops": 2.5e12},
    {"command": "forward", "tokens": 500, "bf16": True, "seconds": 5.0, "tokens_per_s": 100.0, "flops": 2.5e12},
    {"command": "torch-forward", "dtype": "f32", "tokens_per_s": 25.0},
    {"command": "torch-forward", "dtype": "bf16", "tokens_per_s": 125.0},
    # audio: 30 s timed, model 6 s f32 (12 s per minute), 4 s bf16
    {"command": "audio-forward", "precision": "f32", "seconds": 30.0, "t_model": 6.0, "flops": 1.8e12},
    {"command": "audio-forward", "precision": "bf16", "seconds": 30.0, "t_model": 4.0, "flops": 1.8e12},
    {"command": "torch-audio-forward", "dtype": "f32", "relpos": "gather", "t_model": 60.0},
    {"command": "torch-audio-forward", "dtype": "bf16", "relpos": "gather", "t_model": 8.0},
    {"command": "video-forward", "precision": "f32", "layers_timed": 2, "seconds_per_bin": 100.0,
     "gflop_per_s": 320.0, "shapes_limit_gflop_per_s": 360.0},
    {"command": "video-forward", "precision": "bf16", "layers_timed": 2, "seconds_per_bin": 50.0,
     "gflop_per_s": 640.0, "shapes_limit_gflop_per_s": 860.0},
    {"command": "torch-video-layer", "dtype": "f32", "seconds_per_bin": 400.0},
    {"command": "torch-video-layer", "dtype": "bf16", "seconds_per_bin": 150.0},
    {"command": "host", "when": "after", "loadavg": [1.0, 1.0, 1.0], "cpu": "Test CPU", "cores": 2, "threads": 2},
]


def run_report(tmp_path, rows, benchmarks=None):
    path = tmp_path / "extractors-2026-01-01-test.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    cmd = [sys.executable, REPORT, "report", str(path)]
    if benchmarks:
        cmd += ["--benchmarks", str(benchmarks)]
    return subprocess.run(cmd, capture_output=True, text=True), path


def test_figures_follow_from_the_json_lines(tmp_path):
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text("before\n<!-- extractors:begin -->\nold table\n<!-- extractors:end -->\nafter\n")
    r, path = run_report(tmp_path, RUN, bench)
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "extractors-2026-01-01-test.md").read_text()
    # limits: the best engine per precision
    assert "f32 **400 GFLOP/s** (ours), bf16 **900 GFLOP/s** (torch)" in md
    # text: 50 tok/s, PyTorch 25 -> 2.00x, 250/400 = 62 %; bf16 100 vs 125 -> 0.80x, 500/900 = 56 %
    assert "| text (Llama-3.2-3B) | tokens/s (forward of 500 tokens) | 50 | 25 | 2.00x | 62 % (250 GFLOP/s) | 100 | 125 | 0.80x | 56 % (500 GFLOP/s) |" in md
    # audio: 6 s for 30 s -> 12 s/min; PyTorch 120 -> 10.00x; 1.8e12/6 = 300 GFLOP/s = 75 %
    assert "| audio (w2v-BERT 2.0) | s of compute per minute of audio (30 s timed) | 12 | 120 | 10.00x | 75 % (300 GFLOP/s)" in md
    # video: 320/400 = 80 %, 640/900 = 71 %; on its shapes 320/360 = 89 %, 640/860 = 74 %
    assert "| 100 | 400 | 4.00x | 80 % (320 GFLOP/s) | 50 | 150 | 3.00x | 71 % (640 GFLOP/s) |" in md
    assert "f32 89 %, bf16 74 %" in md
    # 10-minute video, f32: text 360000/50/3600 = 2.00 h, audio 12*10/3600 = 0.03 h, video 100*1200/3600 = 33.3 h
    assert "| f32 | 2.00 | 0.03 | 33.3 | **35.4** |" in md
    assert "| text bf16 faster than PyTorch bf16 | 0.80x | **no** |" in md
    assert "| video f32 >= 75 % of the f32 matmul limit | 80.0 % | yes |" in md
    text = bench.read_text()
    assert text.startswith("before\n<!-- extractors:begin -->\n### Latest run: 2026-01-01-test")
    assert text.endswith("<!-- extractors:end -->\nafter\n") and "old table" not in text


def test_a_missing_step_and_a_broken_line_are_named(tmp_path):
    r, _ = run_report(tmp_path, [row for row in RUN if row["command"] != "audio-forward"])
    assert r.returncode != 0 and "no 'audio-forward' line" in r.stderr
    r, path = run_report(tmp_path, RUN[:3] + ["{not json"] + RUN[3:])
    assert r.returncode != 0 and f"{path}:4: not a JSON line" in r.stderr
    bench = tmp_path / "B.md"
    bench.write_text("no markers\n")
    r, _ = run_report(tmp_path, RUN, bench)
    assert r.returncode != 0 and "no <!-- extractors:begin --> ... <!-- extractors:end --> block" in r.stderr
    assert bench.read_text() == "no markers\n"


def test_fidelity_of_features_with_time_last(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 8, 50)).astype(np.float32)
    b = a + 0.01 * rng.normal(size=a.shape).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    out = subprocess.run([sys.executable, REPORT, "fidelity-npy", "audio", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")],
                         capture_output=True, text=True, check=True).stdout
    got = json.loads(out)
    a2, b2 = a.reshape(16, 50).astype(np.float64), b.reshape(16, 50).astype(np.float64)
    r = [np.corrcoef(a2[i], b2[i])[0, 1] for i in range(16)]
    assert got["command"] == "audio-fidelity" and got["shape"] == [2, 8, 50]
    assert got["pearson_min"] == pytest.approx(min(r), rel=1e-9)
    assert got["max_rel_error"] == pytest.approx(np.abs(a2 - b2).max() / np.abs(a2).max(), rel=1e-6)
