#!/usr/bin/env python3
"""Random 2 Hz feature time series for the full-size model: OUT_DIR/{text,audio,video}.npy,
float32 [L, D, N] with N = 2 * SECONDS (a 1-hour stimulus is 7,200 steps).

  make_features.py OUT_DIR SECONDS [--seed 0]
"""
import argparse, os

import numpy as np

FEATS = {"text": (2, 3072), "audio": (2, 1024), "video": (2, 1408)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = int(round(2 * a.seconds))
    rng = np.random.default_rng(a.seed)
    for m, (L, D) in FEATS.items():
        x = rng.standard_normal((L, D, n), dtype=np.float32)
        np.save(os.path.join(a.out, f"{m}.npy"), x)
    print(f"wrote {a.out}: {n} steps")


if __name__ == "__main__":
    main()
