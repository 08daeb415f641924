"""The benchmarks' PyTorch baselines read the same model folders as the engine: one
safetensors reader for them (Debian has no python3-safetensors). Memory-maps the file and copies
each tensor out of the map.

    from safetensors_torch import load_safetensors
    w = load_safetensors("model.safetensors")                 # every tensor widened to float32
    w = load_safetensors("model.safetensors", widen=False)    # as stored (BF16 -> torch.bfloat16)
"""
import json
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "F16": np.float16, "BF16": np.int16}


def load_safetensors(path, widen=True):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        if v["dtype"] not in _NP:
            raise ValueError(f"{path}: tensor '{k}' has dtype {v['dtype']}, expected F32, F16 or BF16")
        a, b = v["data_offsets"]
        raw = np.asarray(mm[8 + n + a: 8 + n + b]).view(_NP[v["dtype"]]).copy()
        t = torch.from_numpy(raw)
        if v["dtype"] == "BF16":
            t = t.view(torch.bfloat16)
        out[k] = (t.float() if widen else t).reshape(v["shape"])
    return out
