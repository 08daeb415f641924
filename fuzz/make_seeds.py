#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets: small VALID files of every format the targets
parse (fuzz/corpus/<target>/gen-*). Deterministic; rerun after a format change and commit the
result. Needs Debian's python3-numpy and python3-nibabel (run with /usr/bin/python3).

  /usr/bin/python3 fuzz/make_seeds.py
"""
import collections
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import nibabel as nib
from nibabel import gifti
from nibabel.freesurfer import io as fsio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "tests", "fixtures")
rng = np.random.default_rng(11)


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "gen-" + name), "wb") as f:
        f.write(data)


def fixture(*parts):
    with open(os.path.join(FIX, *parts), "rb") as f:
        return f.read()


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


# ---- npz -----------------------------------------------------------------------------------
def npz_seeds():
    for name, compressed in (("plain.npz", False), ("compressed.npz", True)):
        b = io.BytesIO()
        arrays = {"text": rng.standard_normal((2, 3, 4)).astype(np.float32),
                  "audio": rng.standard_normal((2, 5)).astype(np.float16)}
        (np.savez_compressed if compressed else np.savez)(b, **arrays)
        out("fuzz_npz", name, b.getvalue())
    b = io.BytesIO()
    np.savez(b, features=np.arange(6, dtype=np.float64).reshape(2, 3))
    out("fuzz_npz", "only-array.npz", b.getvalue())


# ---- build_args.json -----------------------------------------------------------------------
def build_args_seeds():
    out("fuzz_build_args", "tribe_like.json", fixture("brain_model", "tribe_like", "build_args.json"))
    out("fuzz_build_args", "missing_modality.json",
        json.dumps({"feature_dims": {"text": [2, 24], "audio": None, "video": [1, 16]},
                    "n_outputs": 20484, "n_output_timesteps": 100}))


# ---- best.ckpt (torch.save's zip layout, written without torch) ----------------------------
# Stand-ins for the classes a torch checkpoint pickle names; pickle stores them by module and
# name, exactly as torch.save does.
torch_mod = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")


class FloatStorage:  # noqa: D101 - a name for pickle
    pass


FloatStorage.__module__ = "torch"
torch_mod.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch_mod._utils = torch_utils
sys.modules.setdefault("torch", torch_mod)
sys.modules.setdefault("torch._utils", torch_utils)


class _Tensor:
    def __init__(self, key, array):
        self.key, self.array = key, array

    def __reduce__(self):
        a = self.array
        stride = tuple(int(s // a.itemsize) for s in a.strides)
        return (_rebuild_tensor_v2, (_Storage(self.key, a.size), 0, tuple(a.shape), stride, False,
                                     collections.OrderedDict()))


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def torch_zip(obj_fn, arrays, prefix="archive"):
    tensors = {}

    def t(name):
        key = str(len(tensors))
        tensors[key] = np.ascontiguousarray(arrays[name], dtype="<f4")
        return _Tensor(key, tensors[key])

    obj = obj_fn(t)
    b = io.BytesIO()
    _Pickler(b, protocol=2).dump(obj)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        def put(name, data):  # fixed timestamps: the seed is reproducible byte for byte
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)

        put(f"{prefix}/data.pkl", b.getvalue())
        put(f"{prefix}/byteorder", "little")
        for key, a in tensors.items():
            put(f"{prefix}/data/{key}", a.tobytes())
        put(f"{prefix}/version", "3\n")
    return z.getvalue()


def checkpoint_seeds():
    # Matches fuzz_checkpoint_model.cpp's config: hidden 6, heads 3, depth 2, ff_mult 4,
    # low_rank_head 4, max_seq_len 8, no rotary embedding, average subjects, cat/cat over text/audio/video.
    H, F, R, O = 6, 24, 4, 5
    dims = {"text": (2, 3), "audio": (2, 2), "video": (2, 1)}
    w = {}
    for m, (l, d) in dims.items():
        w[f"projectors.{m}.weight"] = rng.standard_normal((H // 3, l * d))
        w[f"projectors.{m}.bias"] = rng.standard_normal(H // 3)
    w["time_pos_embed"] = rng.standard_normal((1, 8, H))
    for i in range(4):  # attention, feed-forward, attention, feed-forward
        w[f"encoder.layers.{i}.0.0.g"] = np.ones(1)
        if i % 2 == 0:
            for p in ("to_q", "to_k", "to_v", "to_out"):
                w[f"encoder.layers.{i}.1.{p}.weight"] = rng.standard_normal((H, H)) * 0.3
        else:
            w[f"encoder.layers.{i}.1.ff.0.0.weight"] = rng.standard_normal((F, H)) * 0.3
            w[f"encoder.layers.{i}.1.ff.0.0.bias"] = rng.standard_normal(F) * 0.1
            w[f"encoder.layers.{i}.1.ff.2.weight"] = rng.standard_normal((H, F)) * 0.3
            w[f"encoder.layers.{i}.1.ff.2.bias"] = rng.standard_normal(H) * 0.1
        w[f"encoder.layers.{i}.2.residual_scale"] = np.ones(H)
    w["encoder.final_norm.g"] = np.ones(1)
    w["low_rank_head.weight"] = rng.standard_normal((R, H))
    w["predictor.weights"] = rng.standard_normal((1, R, O))
    w["predictor.bias"] = rng.standard_normal((1, O))

    def obj(t):
        sd = collections.OrderedDict(("model." + k, t(k)) for k in w)
        return {"epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.5.0", "state_dict": sd,
                "model_build_args": {"feature_dims": {m: v for m, v in dims.items()}, "n_outputs": O,
                                     "n_output_timesteps": 4},
                "loops": {}, "callbacks": {}, "optimizer_states": [], "lr_schedulers": []}

    out("fuzz_checkpoint_model", "tiny.ckpt", torch_zip(obj, w, prefix="best"))
    out("fuzz_torch_checkpoint", "tiny-model.ckpt", torch_zip(obj, w, prefix="best"))


# ---- GGUF (a complete miniature Llama 3 with a byte-level BPE vocabulary) ------------------
def gguf_seed():
    def s(x):
        x = x.encode()
        return struct.pack("<Q", len(x)) + x

    U32, I32, F32, STR, ARR = 4, 5, 6, 8, 9

    def kv(key, typ, val):
        b = s(key) + struct.pack("<I", typ)
        if typ == U32:
            return b + struct.pack("<I", val)
        if typ == F32:
            return b + struct.pack("<f", val)
        if typ == STR:
            return b + s(val)
        sub, items = val
        b += struct.pack("<IQ", sub, len(items))
        for it in items:
            b += s(it) if sub == STR else struct.pack("<i", it)
        return b

    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_tokens = [chr(c) for c in cs]
    merges = ["Ġ t", "h e", "Ġt he", "i n"]
    tokens = byte_tokens + ["Ġt", "he", "Ġthe", "in", "<|begin_of_text|>", "<|end_of_text|>"]
    types_ = [1] * (len(tokens) - 2) + [3, 3]
    V, H, NH, NKV, HD, FF = len(tokens), 8, 2, 1, 4, 16
    meta = [kv("general.architecture", STR, "llama"), kv("general.name", STR, "fuzz-seed"),
            kv("llama.block_count", U32, 1), kv("llama.context_length", U32, 64),
            kv("llama.embedding_length", U32, H), kv("llama.feed_forward_length", U32, FF),
            kv("llama.attention.head_count", U32, NH), kv("llama.attention.head_count_kv", U32, NKV),
            kv("llama.rope.freq_base", F32, 500000.0), kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
            kv("llama.vocab_size", U32, V), kv("llama.rope.dimension_count", U32, HD),
            kv("tokenizer.ggml.model", STR, "gpt2"), kv("tokenizer.ggml.pre", STR, "llama-bpe"),
            kv("tokenizer.ggml.tokens", ARR, (STR, tokens)), kv("tokenizer.ggml.token_type", ARR, (I32, types_)),
            kv("tokenizer.ggml.merges", ARR, (STR, merges)),
            kv("tokenizer.ggml.bos_token_id", U32, V - 2), kv("tokenizer.ggml.eos_token_id", U32, V - 1)]
    # name, ne (fastest first), GGML type (0 F32, 1 F16)
    tensors = [("token_embd.weight", (H, V), 1), ("output_norm.weight", (H,), 0),
               ("blk.0.attn_norm.weight", (H,), 0), ("blk.0.attn_q.weight", (H, NH * HD), 0),
               ("blk.0.attn_k.weight", (H, NKV * HD), 0), ("blk.0.attn_v.weight", (H, NKV * HD), 0),
               ("blk.0.attn_output.weight", (NH * HD, H), 0), ("blk.0.ffn_norm.weight", (H,), 0),
               ("blk.0.ffn_gate.weight", (H, FF), 0), ("blk.0.ffn_up.weight", (H, FF), 0),
               ("blk.0.ffn_down.weight", (FF, H), 0)]
    infos, blobs, off = b"", b"", 0
    for name, ne, typ in tensors:
        a = (rng.standard_normal(int(np.prod(ne))) * 0.2).astype(np.float16 if typ == 1 else np.float32)
        infos += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        infos += struct.pack("<IQ", typ, off)
        blob = a.tobytes()
        blob += b"\0" * (-len(blob) % 32)
        blobs += blob
        off += len(blob)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + infos
    head += b"\0" * (-len(head) % 32)
    out("fuzz_gguf", "tiny-llama.gguf", head + blobs)


# ---- tokenizer.json ------------------------------------------------------------------------
def tokenizer_seed():
    tok = fixture("text_features", "tiny-llama", "tokenizer.json")
    out("fuzz_tokenizer_json", "tiny-llama.json", tok + b"\0What brings you to the land of the gatekeepers?")


# ---- GIFTI ---------------------------------------------------------------------------------
def gifti_seeds():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], np.int32)
    for enc in ("ASCII", "B64BIN", "B64GZ"):
        img = gifti.GiftiImage(darrays=[
            gifti.GiftiDataArray(verts, intent="NIFTI_INTENT_POINTSET", datatype="NIFTI_TYPE_FLOAT32", encoding=enc),
            gifti.GiftiDataArray(faces, intent="NIFTI_INTENT_TRIANGLE", datatype="NIFTI_TYPE_INT32", encoding=enc)])
        out("fuzz_gifti", f"surface-{enc}.surf.gii", img.to_xml())
        series = [gifti.GiftiDataArray(rng.standard_normal(4).astype(np.float32), intent="NIFTI_INTENT_TIME_SERIES",
                                       datatype="NIFTI_TYPE_FLOAT32", encoding=enc) for _ in range(3)]
        out("fuzz_gifti", f"series-{enc}.func.gii", gifti.GiftiImage(darrays=series).to_xml())


# ---- FreeSurfer ----------------------------------------------------------------------------
def freesurfer_seeds():
    import tempfile
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], np.int32)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "f")
        fsio.write_geometry(p, verts, faces, create_stamp="created by fuzz seeds")
        out("fuzz_freesurfer", "lh.white", open(p, "rb").read())
        fsio.write_morph_data(p, rng.standard_normal(4).astype(np.float32))
        out("fuzz_freesurfer", "lh.curv", open(p, "rb").read())
        ctab = np.array([[25, 5, 25, 0, 0], [220, 20, 10, 0, 0]], np.int32)
        fsio.write_annot(p, np.array([0, 1, 1, 0], np.int32), ctab, [b"unknown", b"precentral"], fill_ctab=True)
        out("fuzz_freesurfer", "lh.aparc.annot", open(p, "rb").read())


# ---- transcripts and word lists ------------------------------------------------------------
WORDS = [{"text": "The", "start": 0.5, "duration": 0.2, "sentence": "The cat sat.", "sentence_char": 0, "sequence_id": 0},
         {"text": "cat", "start": 0.8, "duration": 0.3, "sentence": "The cat sat.", "sentence_char": 4, "sequence_id": 0},
         {"text": "sat.", "start": 1.2, "duration": 0.3, "sentence": "The cat sat.", "sentence_char": 8, "sequence_id": 0},
         {"text": "Héllo", "start": 2.0, "duration": 0.4, "sentence": "Héllo!", "sentence_char": 0, "sequence_id": 1}]


def words_tsv():
    rows = ["\ttext\tstart\tduration\tsequence_id\tsentence"]
    for i, w in enumerate(WORDS):
        rows.append(f"{i}\t{w['text']}\t{w['start']}\t{w['duration']}\t{w['sequence_id']}\t{w['sentence']}")
    return "\n".join(rows) + "\n"


def transcript_seeds():
    whisper = {"text": " The cat sat.", "language": "en", "segments": [
        {"id": 0, "start": 0.5, "end": 1.5, "text": " The cat sat.",
         "words": [{"word": " The", "start": 0.5, "end": 0.7, "probability": 0.9},
                   {"word": " cat", "start": 0.8, "end": 1.1, "probability": 0.9},
                   {"word": " sat.", "start": 1.2, "end": 1.5, "probability": 0.9}]}]}
    out("fuzz_transcripts", "whisper.json", json.dumps(whisper, indent=1))
    whisperx = {"segments": [{"start": 0.5, "end": 1.5, "text": "The cat sat.", "words": [
        {"word": "The", "start": 0.5, "end": 0.7, "score": 0.9}, {"word": "cat", "start": 0.8, "end": 1.1},
        {"word": "sat."}]}], "word_segments": []}
    out("fuzz_transcripts", "whisperx.json", json.dumps(whisperx))
    out("fuzz_transcripts", "word-list.json", json.dumps({"words": WORDS}))
    out("fuzz_transcripts", "transcript.tsv", words_tsv())
    # events.tsv as `tribev2 run` writes it (pandas quoting: a field with a tab, a quote, a newline)
    out("fuzz_transcripts", "events.tsv",
        "type\tstart\tduration\tstop\tfilepath\toffset\ttext\n"
        "Audio\t0.0\t60.0\t60.0\tclip.wav\t0.0\t\n"
        "Video\t0.0\t60.0\t60.0\tclip.mp4\t0.0\t\n"
        "Word\t0.5\t0.25\t0.75\t\t\t\"he said \"\"hi\"\"\tand\nleft\"\n"
        "Word\t1.0\t0.25\t1.25\t\t\tthere\n")
    out("fuzz_words", "words.json", b"\0" + json.dumps({"words": WORDS}, ensure_ascii=False).encode())
    out("fuzz_words", "list.json", b"\0" + json.dumps([{"text": "a", "start": 0, "end": 0.5}]).encode())
    out("fuzz_words", "words.tsv", b"\1" + words_tsv().encode())


# ---- HF configs and the shard index --------------------------------------------------------
def hf_seeds():
    sel = [(0, ("text_features", "tiny-llama", "config.json")),
           (1, ("audio_features", "tiny-w2v-bert", "config.json")),
           (2, ("audio_features", "tiny-w2v-bert", "preprocessor_config.json")),
           (3, ("video_features", "tiny-vjepa2", "config.json")),
           (4, ("video_features", "tiny-vjepa2", "video_preprocessor_config.json"))]
    for i, parts in sel:
        out("fuzz_hf_configs", f"{i}-{parts[0]}-{parts[-1]}", bytes([i]) + fixture(*parts))
    idx = json.loads(fixture("text_features", "tiny-llama", "model.safetensors.index.json"))
    out("fuzz_hf_configs", "5-model.safetensors.index.json", bytes([5]) + compact(idx).encode())


# ---- segments.json -------------------------------------------------------------------------
def segments_seed():
    seg = {"duration_s": 3.0, "tr_s": 1.0, "feature_frequency_hz": 2.0, "n_rows": 3, "note": "rows",
           "segments": [{"start": 0.0, "duration": 3.0, "first_step": 0, "steps": 6}],
           "rows": [{"row": i, "start": float(i), "end": float(i + 1)} for i in range(3)]}
    out("fuzz_segments", "segments.json", json.dumps(seg, indent=1))


# ---- cache entry.json ----------------------------------------------------------------------
def cache_entry_seed():
    # StageCache (src/pipeline/cache.cpp): content_sha256 lists every file's SHA-256,
    # entry_sha256 is the SHA-256 of the canonical (sorted, compact) dump of the rest.
    payload = b"tribev2 cache payload\n"
    entry = {"key": "key", "stage": "stage", "n_rows": 3, "note": "fuzz seed",
             "content_sha256": {"payload.txt": hashlib.sha256(payload).hexdigest()}}
    canon = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    entry["entry_sha256"] = hashlib.sha256(canon).hexdigest()
    out("fuzz_cache_entry", "entry.json", json.dumps(entry, indent=1) + "\n")


def main():
    npz_seeds()
    build_args_seeds()
    checkpoint_seeds()
    gguf_seed()
    tokenizer_seed()
    gifti_seeds()
    freesurfer_seeds()
    transcript_seeds()
    hf_seeds()
    segments_seed()
    cache_entry_seed()
    print("seeds written under", os.path.join(HERE, "corpus"))


if __name__ == "__main__":
    main()
