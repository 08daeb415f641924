"""Shared setup of the Python tests: paths given by CTest (tests/python/CMakeLists.txt)."""

import os
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("TRIBEV2_SOURCE_DIR", Path(__file__).resolve().parents[2]))
FIXTURES = SOURCE / "tests" / "fixtures"


def cli_path():
    cli = os.environ.get("TRIBEV2_CLI")
    if not cli or not Path(cli).is_file():
        pytest.skip("TRIBEV2_CLI (the tribev2 executable) not set: run through ctest")
    return cli


def run_cli(*args):
    r = subprocess.run([cli_path(), "-q", *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def max_rel_diff(a, b):
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def mesh_dir():
    d = os.environ.get("TRIBEV2_MESH_DIR") or str(SOURCE.parent / "shared" / "data" / "fsaverage5")
    if not (Path(d) / "pial_left.gii.gz").is_file() and not (Path(d) / "pial_left.gii").is_file():
        pytest.skip(f"fsaverage5 meshes not found in {d} (tribev2 fetch-mesh)")
    return d
