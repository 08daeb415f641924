#!/usr/bin/env python3
"""The PyTorch baseline for whole-stimulus prediction: the same segments as `tribev2 predict`
(upstream TribeModel.predict: 100 s segments of 200 steps from t=0, the last one zero padded,
pooled to one row per TR, rows starting before the end kept), run through torch_reference's
Model one segment after another (or --batch at a time), reading the inputs and writing the
output .npy: timed end to end like the C++ command.

  torch_predict_loop.py MODEL_DIR --features text=X.npy --features ... --output OUT.npy
                        [--threads N] [--batch 1] [--json RESULT.json]
"""
import argparse, json, math, os, sys, time

T0 = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("TRIBEV2_SHARED_BENCH", os.path.join(here, "..", "..", "shared", "bench")))
from torch_reference import Model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--features", action="append", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = Model(a.model)
    feats = {}
    for spec in a.features:
        mod, path = spec.split("=", 1)
        x = np.load(path, mmap_mode="r")
        feats[mod] = x.reshape(-1, x.shape[-1])  # [L*D, N]
    n = max(v.shape[-1] for v in feats.values())
    T, To, freq = 200, m.n_out_t, 2.0
    duration = n / freq
    n_seg = max(1, math.ceil(duration / 100.0 - 1e-9))
    rows = []
    t_fwd = 0.0
    with torch.inference_mode():
        for s0 in range(0, n_seg, a.batch):
            segs = range(s0, min(n_seg, s0 + a.batch))
            batch = {}
            for mod, x in feats.items():
                b = np.zeros((len(segs), x.shape[0], T), dtype=np.float32)
                for i, s in enumerate(segs):
                    chunk = x[:, s * T: (s + 1) * T]
                    b[i, :, : chunk.shape[1]] = chunk
                batch[mod] = torch.from_numpy(b)
            t = time.perf_counter()
            y = m.forward(batch).numpy()  # [B, N, To]
            t_fwd += time.perf_counter() - t
            for i, s in enumerate(segs):
                for j in range(To):
                    if s * 100.0 + j * 1.0 < duration:
                        rows.append(y[i, :, j])
    out = np.stack(rows).astype(np.float32)
    np.save(a.output, out)
    total = time.perf_counter() - T0
    res = {"engine": "pytorch-" + torch.__version__, "threads": a.threads, "batch": a.batch, "segments": n_seg,
           "rows": int(out.shape[0]), "total_s": total, "forward_s": t_fwd}
    print(json.dumps(res))
    if a.json:
        json.dump(res, open(a.json, "w"))


if __name__ == "__main__":
    main()
