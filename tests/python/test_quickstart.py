"""The Must-show: upstream's quick start (examples/quickstart.py --tiny) on the tiny models
gives the same preds as `tribev2 run` on the same text (max abs diff <= 1e-6 * max)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import SOURCE, mesh_dir, run_cli

from tribev2._testing import tiny_setup


def test_quickstart_matches_tribev2_run(tmp_path):
    env = dict(os.environ, TRIBEV2_MESH_DIR=mesh_dir())
    r = subprocess.run([sys.executable, str(SOURCE / "examples" / "quickstart.py"), "--tiny", "--out",
                        str(tmp_path / "py")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "py" / "timesteps.png").is_file()
    preds = np.load(tmp_path / "py" / "preds.npy")
    # The same tiny models (seeded weights) and text as the quick start, through the CLI.
    setup = tiny_setup(tmp_path / "cli-models")
    text = tmp_path / "story.txt"
    text.write_text("A short story about a cat. The cat sleeps all day long, and dreams of the sea.")
    run_cli("run", "--text", text, "--model", setup["checkpoint_dir"], "--out", tmp_path / "cli", "--llama",
            setup["text_model"], "--audio-model", setup["audio_model"], "--no-brain-maps")
    cli = np.load(tmp_path / "cli" / "preds.npy")
    assert preds.shape == cli.shape and preds.shape[1] == 20484
    assert np.abs(preds - cli).max() <= 1e-6 * np.abs(cli).max()
