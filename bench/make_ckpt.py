#!/usr/bin/env python3
"""Write best.ckpt (PyTorch Lightning layout, as the released checkpoint) next to a
model.safetensors made by make_full_model.py, for the start-up benchmark.

  make_ckpt.py MODEL_DIR        # writes MODEL_DIR/ckpt/{best.ckpt,config.yaml}
"""
import json, os, shutil, sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
sys.path.insert(0, os.environ.get("TRIBEV2_SHARED_BENCH", ""))
from torch_reference import load_safetensors  # noqa: E402


def main():
    d = sys.argv[1]
    out = os.path.join(d, "ckpt")
    os.makedirs(out, exist_ok=True)
    sd = {"model." + k: v for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
    ba = json.load(open(os.path.join(d, "build_args.json")))
    ba["feature_dims"] = {m: tuple(v) if v else None for m, v in ba["feature_dims"].items()}
    ck = {"epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.5.0", "state_dict": sd,
          "model_build_args": ba, "loops": {}, "callbacks": {}, "optimizer_states": [], "lr_schedulers": [],
          "hyper_parameters": {"note": "bench: random weights of the published size"}}
    torch.save(ck, os.path.join(out, "best.ckpt"))
    shutil.copy(os.path.join(d, "config.yaml"), os.path.join(out, "config.yaml"))
    print(f"wrote {out}/best.ckpt")


if __name__ == "__main__":
    main()
