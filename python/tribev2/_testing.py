"""Tiny models for tests and the offline quick start (no downloads).

``tiny_setup(folder, source_dir)`` writes a brain model with seeded random weights whose
inputs fit the tiny extractor fixtures of the source tree (tests/fixtures: a tiny Llama
``text 2 x 64``, a tiny w2v-BERT ``audio 2 x 32``, a tiny V-JEPA2 ``video 2 x 32``) and
returns the keyword arguments of ``TribeModel.from_pretrained`` that use them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import _tribev2


def fixtures_dir(source_dir=None) -> Path:
    """tests/fixtures of the source tree (``source_dir``, else $TRIBEV2_SOURCE_DIR, else the
    folder above this package's build folder)."""
    import os

    candidates = []
    if source_dir is not None:
        candidates.append(Path(source_dir))
    if os.environ.get("TRIBEV2_SOURCE_DIR"):
        candidates.append(Path(os.environ["TRIBEV2_SOURCE_DIR"]))
    here = Path(__file__).resolve()
    candidates += [here.parents[3], here.parents[2], Path.cwd()]
    for c in candidates:
        if (c / "tests" / "fixtures" / "brain_model" / "text64_pipeline" / "config.yaml").is_file():
            return c / "tests" / "fixtures"
    raise FileNotFoundError("tests/fixtures of the tribev2-cpp source tree not found: set TRIBEV2_SOURCE_DIR")


def make_tiny_model(folder, source_dir=None, n_outputs: int = 20484, seed: int = 5) -> Path:
    """A TRIBE model folder (config.yaml, model.safetensors, build_args.json) with random weights."""
    fx = fixtures_dir(source_dir)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = fx / "brain_model" / "text64_pipeline" / "config.yaml"
    dims = [("text", (2, 64)), ("audio", (2, 32)), ("video", (2, 32))]
    _tribev2._write_random_weights(str(config), dims, n_outputs, 15, seed, str(folder / "model.safetensors"))
    shutil.copyfile(config, folder / "config.yaml")
    (folder / "build_args.json").write_text(json.dumps({
        "feature_dims": {k: list(v) for k, v in dims},
        "n_outputs": n_outputs,
        "n_output_timesteps": 15,
    }))
    return folder


def tiny_setup(folder, source_dir=None, n_outputs: int = 20484) -> dict:
    """Writes the tiny model into ``folder/model``; returns from_pretrained's arguments."""
    fx = fixtures_dir(source_dir)
    model = make_tiny_model(Path(folder) / "model", source_dir, n_outputs)
    return {
        "checkpoint_dir": str(model),
        "text_model": str(fx / "text_features" / "tiny-llama"),
        "audio_model": str(fx / "audio_features" / "tiny-w2v-bert"),
        "video_model": str(fx / "video_features" / "tiny-vjepa2"),
    }
