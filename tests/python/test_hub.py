"""Hub ids in TribeModel.from_pretrained and the extractor options, through the engine's Hub
client (tribev2::hub::resolve_model) against the local Hub the C++ hub tests use
(tests/hub/hub_server.py): the tiny models served as facebook/tribev2, meta-llama/Llama-3.2-3B
and facebook/w2v-bert-2.0. No test touches the internet."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tribev2
from tribev2._testing import tiny_setup
from conftest import SOURCE

TEXT = "A short story about a cat. The cat sleeps all day long, and dreams of the sea."
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _repo(folder):
    files = {p.relative_to(folder).as_posix(): str(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()}
    return {"commit": COMMIT, "refs": {"main": COMMIT}, "files": files, "lfs": ["*.safetensors", "*.ckpt"]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    d = tmp_path_factory.mktemp("hub")
    setup = tiny_setup(d / "models")
    (d / "story.txt").write_text(TEXT)
    config = {"repos": {
        "facebook/tribev2": _repo(setup["checkpoint_dir"]),
        "meta-llama/Llama-3.2-3B": _repo(setup["text_model"]),
        "facebook/w2v-bert-2.0": _repo(setup["audio_model"]),
    }}
    (d / "server.json").write_text(json.dumps(config))
    p = subprocess.Popen(["/usr/bin/python3", str(SOURCE / "tests" / "hub" / "hub_server.py"), "--config",
                          str(d / "server.json"), "--log", str(d / "log.jsonl"), "--ready", str(d / "ready")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if (d / "ready").is_file() and (d / "ready").read_text().strip():
            break
        time.sleep(0.05)
    port = int((d / "ready").read_text().split()[0])
    try:
        yield d, setup, f"http://127.0.0.1:{port}"
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


def _requests(d):
    log = d / "log.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []


def test_from_pretrained_hub_id_matches_local_folder(hub, tmp_path):
    d, setup, endpoint = hub
    cache = tmp_path / "hf"
    # Upstream's call; the extractors default to upstream's ids, resolved through the same Hub.
    model = tribev2.TribeModel.from_pretrained("facebook/tribev2", cache_folder=tmp_path / "cache", hub_cache=cache,
                                               hub_endpoint=endpoint, progress=False)
    snap = cache / "models--facebook--tribev2" / "snapshots" / COMMIT
    assert Path(model.checkpoint) == snap
    assert (snap / "config.yaml").is_file() and (snap / "model.safetensors").is_file()
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    preds, segments = model.predict(events=df)
    assert (cache / "models--meta-llama--Llama-3.2-3B" / "snapshots" / COMMIT / "tokenizer.json").is_file()
    assert (cache / "models--facebook--w2v-bert-2.0" / "snapshots" / COMMIT / "model.safetensors").is_file()
    # The same cache folder: the spoken text (espeak-ng's audio differs slightly from run to run)
    # comes from the cache, so both predict from the same events.
    local = tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], cache_folder=tmp_path / "cache",
                                               text_model=setup["text_model"], audio_model=setup["audio_model"],
                                               progress=False)
    ref, _ = local.predict(events=local.get_events_dataframe(text_path=str(d / "story.txt")))
    assert preds.shape == ref.shape and preds.shape[1] == 20484
    assert np.abs(preds - ref).max() <= 1e-6 * np.abs(ref).max()

    # Offline from the filled cache: no request reaches the Hub.
    n = len(_requests(d))
    off = tribev2.TribeModel.from_pretrained("facebook/tribev2", cache_folder=tmp_path / "cache", hub_cache=cache,
                                             hub_endpoint=endpoint, offline=True, progress=False)
    p2, _ = off.predict(events=off.get_events_dataframe(text_path=str(d / "story.txt")))
    np.testing.assert_array_equal(p2, preds)
    assert len(_requests(d)) == n
    # ... and with HF_HUB_OFFLINE / HF_HUB_CACHE as huggingface_hub reads them.
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(cache), HF_ENDPOINT="http://127.0.0.1:9")
    code = ("import tribev2; m = tribev2.TribeModel.from_pretrained('facebook/tribev2', cache_folder=%r, "
            "progress=False); print(m.checkpoint)" % str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == snap


def test_extractor_functions_take_hub_ids(hub, tmp_path):
    d, setup, endpoint = hub
    h = {"cache_dir": str(tmp_path / "hf"), "endpoint": endpoint}
    local = tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], cache_folder=tmp_path / "cache",
                                               progress=False)
    df = local.get_events_dataframe(text_path=str(d / "story.txt"))
    t = tribev2.text_features("meta-llama/Llama-3.2-3B", df, hub=h)
    np.testing.assert_array_equal(t, tribev2.text_features(setup["text_model"], df))
    a = tribev2.audio_features("facebook/w2v-bert-2.0", df, hub=h)
    np.testing.assert_array_equal(a[0], tribev2.audio_features(setup["audio_model"], df)[0])
    # Only the files the loader reads were fetched (no tokenizer_config.json for Llama).
    snap = tmp_path / "hf" / "models--meta-llama--Llama-3.2-3B" / "snapshots" / COMMIT
    assert (snap / "tokenizer.json").is_file() and not (snap / "tokenizer_config.json").exists()


def test_hub_errors_are_clear(hub, tmp_path):
    d, setup, endpoint = hub
    with pytest.raises((ValueError, FileNotFoundError, OSError), match="facebook/tribev2"):
        tribev2.TribeModel.from_pretrained("facebook/tribev2", cache_folder=tmp_path / "c", hub_cache=tmp_path / "empty",
                                           offline=True, progress=False)
    with pytest.raises((ValueError, FileNotFoundError), match="nobody/nothing"):
        tribev2.TribeModel.from_pretrained("nobody/nothing", cache_folder=tmp_path / "c", hub_cache=tmp_path / "hf",
                                           hub_endpoint=endpoint, progress=False)
    with pytest.raises(FileNotFoundError):
        tribev2.TribeModel.from_pretrained("./not/a/folder", cache_folder=tmp_path / "c")
    # An extractor id that cannot be resolved fails when the stage needs it, naming the option.
    m = tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], cache_folder=tmp_path / "c2",
                                           text_model="nobody/llama", audio_model=setup["audio_model"],
                                           hub_cache=tmp_path / "hf2", hub_endpoint=endpoint, progress=False)
    with pytest.raises(ValueError, match="nobody/llama"):
        m.predict(events=m.get_events_dataframe(text_path=str(d / "story.txt")))
