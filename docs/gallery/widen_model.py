# The small test model (tests/fixtures/brain_model/text64_pipeline) widened to fsaverage5's
# 20,484 outputs with seeded random predictor weights: a model whose maps can be drawn on the
# real meshes. NOT brain predictions. usage: widen_model.py REPO_ROOT OUT_DIR (writes OUT_DIR/model)
import json, struct, sys, numpy as np
root, w = sys.argv[1], sys.argv[2]
src = f"{root}/tests/fixtures/brain_model/text64_pipeline"
b = open(f"{src}/model.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); data = b[8 + n:]
rng = np.random.default_rng(7)
out, hdr, off = [], {}, 0
for k, v in h.items():
    if k == "__metadata__":
        continue
    a = np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], np.float32).reshape(v["shape"])
    if k == "predictor.weights":
        a = rng.standard_normal((1, a.shape[1], 20484)).astype(np.float32) / np.sqrt(a.shape[1])
    elif k == "predictor.bias":
        a = np.zeros((1, 20484), np.float32)
    raw = a.tobytes(); hdr[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
    out.append(raw); off += len(raw)
import os; os.makedirs(f"{w}/model", exist_ok=True)
j = json.dumps(hdr).encode(); j += b" " * (-len(j) % 8)
open(f"{w}/model/model.safetensors", "wb").write(struct.pack("<Q", len(j)) + j + b"".join(out))
open(f"{w}/model/config.yaml", "w").write(open(f"{src}/config.yaml").read())
ba = json.load(open(f"{src}/build_args.json")); ba["n_outputs"] = 20484
json.dump(ba, open(f"{w}/model/build_args.json", "w"))
