#!/usr/bin/env python3
"""Runs the CPU benchmark of the brain model, ours against PyTorch in the same run, and writes
bench/results/<date>-<host>.{json,md} plus PNG charts. Called by bench/run.sh (which builds
and generates the models first); see BENCHMARKS.md for what is measured and why.

  run_bench.py --build BUILD_DIR --cache CACHE_DIR [--repeat 10] [--quick]

Heavy steps run under `flock /tmp/tribev2-heavy.lock` so they never overlap other heavy jobs
on a shared machine. The load average before and after is recorded with the results.
"""
import argparse, datetime, json, math, os, platform, re, resource, shlex, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
LOCK = "/tmp/tribev2-heavy.lock"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, env=None, lock=True, check=True):
    """Runs cmd (a list); returns (stdout, wall seconds, child peak RSS in MB)."""
    full = (["flock", LOCK] if lock else []) + cmd
    e = dict(os.environ)
    if env:
        e.update(env)
    t = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - t
    # peak RSS of the waited-for children so far (the max over them): measure one process per
    # call by reading it through a fresh `time`-like wrapper when it matters (rss_of).
    if check and p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {' '.join(map(shlex.quote, full))}\n{err[-3000:]}")
    return out, wall


def rss_run(cmd, env=None):
    """Runs cmd under /usr/bin/time-like accounting: returns (stdout, wall s, peak RSS MB)."""
    wrapper = [PY, "-c", (
        "import resource,subprocess,sys,time,json;t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,text=True);"
        "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024;"
        "sys.stdout.write(p.stdout);print('@@'+json.dumps({'wall':w,'rss':r,'rc':p.returncode}))")] + cmd
    out, _ = run(wrapper, env=env)
    lines = out.strip().splitlines()
    meta = json.loads(lines[-1][2:])
    if meta["rc"] != 0:
        raise RuntimeError(f"command failed: {' '.join(cmd)}")
    return "\n".join(lines[:-1]), meta["wall"], meta["rss"]


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip().startswith("{")]


def load_avg():
    return [float(x) for x in open("/proc/loadavg").read().split()[:3]]


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


# PyTorch thread settings on this machine: env + --threads. "cores" is how many it may use.
TORCH_SETTINGS = [
    {"name": "1 thread (OMP=1, OPENBLAS=1, --threads 1)", "cores": 1,
     "env": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}, "threads": 1},
    {"name": "OPENBLAS=2, OMP=1, --threads 1", "cores": 2,
     "env": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"}, "threads": 1},
    {"name": "OPENBLAS=1, OMP=2, --threads 2", "cores": 2,
     "env": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "1"}, "threads": 2},
    {"name": "OPENBLAS=2, OMP=2, --threads 2", "cores": 2,
     "env": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}, "threads": 2},
    {"name": "defaults, --threads 2", "cores": 2, "env": {}, "threads": 2},
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="fewer cases (for testing the script)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench", "tribev2_bench")
    cli = os.path.join(a.build, "src", "cli", "tribev2")
    torch_ref = os.path.join(a.shared, "bench", "torch_reference.py")
    m32 = os.path.join(a.cache, "full_f32")
    m16 = os.path.join(a.cache, "full_bf16")
    R = a.repeat
    res = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "host": socket.gethostname(),
           "cpu_model": cpu_model(), "cores": os.cpu_count(), "load_before": load_avg(), "repeat": R,
           "model_file_mb": os.path.getsize(os.path.join(m32, "model.safetensors")) / 2**20,
           "model_bf16_file_mb": os.path.getsize(os.path.join(m16, "model.safetensors")) / 2**20}
    res["torch_version"] = subprocess.run([PY, "-c", "import torch;print(torch.__version__)"], capture_output=True,
                                          text=True).stdout.strip()
    cases = [(200, 1), (200, 2), (200, 8), (50, 1), (100, 1), (400, 1), (1024, 1)]
    if a.quick:
        cases = [(200, 1), (100, 1)]

    # 1. FLOPs and the GEMM-bound limit (sgemm throughput on the forward's own shapes).
    res["flops"] = {f"{T}x{B}": json_lines(run([bench, "flops", "--T", str(T), "--batch", str(B)], lock=False)[0])[0]
                    for T, B in cases}
    res["gemm"] = {}
    for T, B in cases:
        for th in (1, 2):
            log(f"gemm limit T={T} batch={B} threads={th}")
            out, _ = run([bench, "gemm", "--T", str(T), "--batch", str(B), "--threads", str(th), "--repeat",
                          str(max(3, R // 2))])
            res["gemm"][f"{T}x{B}/{th}"] = json_lines(out)

    # 2. PyTorch: every thread setting on T=200 batch 1, then the best 1-core and 2-core ones
    #    on every case.
    def torch_time(setting, T, B):
        out, _, rss = rss_run([PY, torch_ref, "time", m32, "--T", str(T), "--batch", str(B), "--threads",
                               str(setting["threads"]), "--repeat", str(R)], env=setting["env"])
        r = json_lines(out)[-1]
        r["peak_rss_mb"] = rss
        r["setting"] = setting["name"]
        return r

    res["torch_settings"] = []
    for st in TORCH_SETTINGS:
        log(f"pytorch T=200 batch=1: {st['name']}")
        res["torch_settings"].append(torch_time(st, 200, 1))
    best = {}
    for cores in (1, 2):
        cand = [(r["median_ms"], i) for i, r in enumerate(res["torch_settings"]) if TORCH_SETTINGS[i]["cores"] <= cores]
        best[cores] = TORCH_SETTINGS[min(cand)[1]]
    res["torch_best_setting"] = {str(k): v["name"] for k, v in best.items()}

    # 3. Every case: PyTorch (best 1- and 2-core settings) and ours (1 and 2 threads, f32 and
    #    bf16; bf16 also from the BF16 weights file).
    res["cases"] = []
    for T, B in cases:
        for th in (1, 2):
            log(f"case T={T} batch={B} threads={th}")
            row = {"T": T, "batch": B, "threads": th}
            if (T, B) == (200, 1):
                row["torch"] = min((r for i, r in enumerate(res["torch_settings"])
                                    if TORCH_SETTINGS[i]["cores"] <= th), key=lambda r: r["median_ms"])
            else:
                row["torch"] = torch_time(best[th], T, B)
            for prec, model in (("f32", m32), ("bf16", m32), ("bf16w", m16)):
                if prec == "bf16w" and (th != 2 or (T, B) != (200, 1)):
                    continue
                out, _, rss = rss_run([bench, "forward", model, "--T", str(T), "--batch", str(B), "--threads", str(th),
                                       "--precision", "bf16" if prec.startswith("bf16") else "f32", "--repeat", str(R),
                                       "--warmup", "2"], env={"OMP_NUM_THREADS": "1"})
                r = json_lines(out)[-1]
                r["process_peak_rss_mb"] = rss
                row[prec] = r
            res["cases"].append(row)

    # 4. Exactness: ours vs PyTorch on the same inputs; bf16 vs f32.
    log("parity")
    tmp = os.path.join(a.cache, "parity")
    os.makedirs(tmp, exist_ok=True)
    run([bench, "forward", m32, "--T", "200", "--batch", "2", "--threads", "2", "--repeat", "1", "--warmup", "0",
         "--save", os.path.join(tmp, "f32.npy")])
    run([bench, "forward", m32, "--T", "200", "--batch", "2", "--threads", "2", "--repeat", "1", "--warmup", "0",
         "--precision", "bf16", "--save", os.path.join(tmp, "bf16.npy")])
    run([bench, "forward", m16, "--T", "200", "--batch", "2", "--threads", "2", "--repeat", "1", "--warmup", "0",
         "--precision", "bf16", "--save", os.path.join(tmp, "bf16w.npy")])
    inputs = [f"{m}={os.path.join(tmp, 'f32.npy.input_' + m + '.npy')}" for m in ("text", "audio", "video")]
    run([PY, torch_ref, "forward", m32] + sum([["--input", i] for i in inputs], []) +
        ["--output", os.path.join(tmp, "torch.npy"), "--threads", "2"], env={"OPENBLAS_NUM_THREADS": "2"})
    res["parity"] = json.loads(subprocess.run([PY, "-c", PARITY, tmp], capture_output=True, text=True,
                                              check=True).stdout)

    # 5. Start-up: process start to model ready (warm page cache), median of 5.
    log("start-up")
    res["startup"] = {}
    ck = os.path.join(m32, "ckpt")
    for name, model, prec in (("safetensors_f32", m32, "f32"), ("best_ckpt_f32", ck, "f32"),
                              ("safetensors_f32_bf16", m32, "bf16"), ("safetensors_bf16_bf16", m16, "bf16")):
        if not os.path.exists(model):
            continue
        walls, inner = [], []
        for i in range(6):
            out, wall, rss = rss_run([bench, "load", model, "--precision", prec, "--threads", "2"])
            if i:  # the first run warms the page cache
                walls.append(wall)
                inner.append(json_lines(out)[-1]["load_s"])
        res["startup"][name] = {"process_s": median(walls), "load_s": median(inner), "peak_rss_mb": rss}

    # 6. One hour of features through `tribev2 predict` (CLI, end to end) and the PyTorch loop.
    feats = os.path.join(a.cache, "features_1h")
    hour = [f"{m}={os.path.join(feats, m + '.npy')}" for m in ("text", "audio", "video")]
    res["predict_1h"] = {}
    n_pred = 3 if a.quick else R
    runs = {"ours_cli": [], "ours_stream": [], "torch": []}
    for i in range(n_pred):
        log(f"predict 1 hour, run {i + 1}/{n_pred}")
        _, wall, rss = rss_run([cli, "--threads", "2", "--quiet", "predict", "--model", m32, "--output",
                                os.path.join(tmp, "pred_ours.npy")] + sum([["--features", h] for h in hour], []))
        runs["ours_cli"].append({"wall_s": wall, "peak_rss_mb": rss})
        out, wall, rss = rss_run([bench, "predict", m32, "--threads", "2", "--features", ",".join(hour), "--output",
                                  os.path.join(tmp, "pred_stream.npy")])
        runs["ours_stream"].append({"wall_s": wall, "peak_rss_mb": rss})
        if i < (2 if a.quick else max(3, R // 2)):
            st = best[2]
            out, wall, rss = rss_run([PY, os.path.join(HERE, "torch_predict_loop.py"), m32, "--threads",
                                      str(st["threads"]), "--output", os.path.join(tmp, "pred_torch.npy")] +
                                     sum([["--features", h] for h in hour], []), env=st["env"])
            runs["torch"].append({"wall_s": wall, "peak_rss_mb": rss, **json_lines(out)[-1]})
    for k, v in runs.items():
        res["predict_1h"][k] = {"wall_s": median([r["wall_s"] for r in v]), "peak_rss_mb": max(r["peak_rss_mb"] for r in v),
                                "runs": len(v)}
    res["predict_1h"]["torch_setting"] = best[2]["name"]
    res["predict_1h"]["parity"] = json.loads(subprocess.run(
        [PY, "-c", PRED_PARITY, tmp], capture_output=True, text=True, check=True).stdout)

    # 7. Memory of a typical clip (10 minutes), where inputs and outputs are small.
    f10 = os.path.join(a.cache, "features_10min")
    if os.path.exists(os.path.join(f10, "video.npy")):
        log("predict 10 minutes")
        ten = [f"{m}={os.path.join(f10, m + '.npy')}" for m in ("text", "audio", "video")]
        walls, rss_max = [], 0.0
        for _ in range(3):
            _, wall, rss = rss_run([cli, "--threads", "2", "--quiet", "predict", "--model", m32, "--output",
                                    os.path.join(tmp, "pred_10min.npy")] + sum([["--features", h] for h in ten], []))
            walls.append(wall)
            rss_max = max(rss_max, rss)
        res["predict_10min"] = {"wall_s": median(walls), "peak_rss_mb": rss_max, "runs": 3}

    res["load_after"] = load_avg()
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"{datetime.date.today().isoformat()}-{socket.gethostname()}")
    json.dump(res, open(stem + ".json", "w"), indent=1)
    subprocess.run([PY, os.path.join(HERE, "report.py"), stem + ".json"], check=True)
    log(f"wrote {stem}.json, {stem}.md and charts")


PARITY = r"""
import json, sys, numpy as np
d = sys.argv[1]
f32 = np.load(d + '/f32.npy'); t = np.load(d + '/torch.npy')
out = {'max_abs_diff': float(np.abs(f32 - t).max()), 'max_abs_torch': float(np.abs(t).max())}
out['rel_to_max'] = out['max_abs_diff'] / out['max_abs_torch']
for name in ('bf16', 'bf16w'):
    b = np.load(d + '/' + name + '.npy')
    rows_b = b.transpose(0, 2, 1).reshape(-1, b.shape[1]); rows_f = f32.transpose(0, 2, 1).reshape(-1, f32.shape[1])
    r = [np.corrcoef(x, y)[0, 1] for x, y in zip(rows_b, rows_f)]
    out[name] = {'min_row_pearson': float(np.min(r)), 'median_row_pearson': float(np.median(r)),
                 'max_rel_err_to_max': float(np.abs(b - f32).max() / np.abs(f32).max()),
                 'max_abs_err': float(np.abs(b - f32).max())}
print(json.dumps(out))
"""

PRED_PARITY = r"""
import json, sys, numpy as np
d = sys.argv[1]
a = np.load(d + '/pred_ours.npy', mmap_mode='r'); s = np.load(d + '/pred_stream.npy', mmap_mode='r')
t = np.load(d + '/pred_torch.npy', mmap_mode='r')
print(json.dumps({'shape': list(a.shape), 'torch_shape': list(t.shape),
                  'rel_to_max': float(np.abs(a - t).max() / np.abs(t).max()),
                  'stream_equals_cli': bool(np.array_equal(a, s))}))
"""

if __name__ == "__main__":
    main()
