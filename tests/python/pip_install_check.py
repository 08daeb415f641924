#!/usr/bin/python3
"""`python3 -m venv --system-site-packages V && V/bin/python -m pip install --no-build-isolation .`
in a temporary copy of the source tree, offline (pip may not reach any index), then imports
tribev2 from the venv and runs a tiny forward. Exit 77 (skipped, with the reason) when venv or
pip are missing. ccache, when installed, is used by setup.py; CCACHE_BASEDIR is set to the
temporary root so that objects compiled in a developer build at the same depth are reused."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(os.environ.get("TRIBEV2_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def copy_tree(dst):
    """The files git tracks plus untracked ones it does not ignore (the working tree as it is);
    without git, everything but build folders."""
    try:
        files = subprocess.run(["git", "-C", str(SOURCE), "ls-files", "-z", "--cached", "--others",
                                "--exclude-standard"], check=True, capture_output=True).stdout.split(b"\0")
        files = [f.decode() for f in files if f]
    except (OSError, subprocess.CalledProcessError):
        files = None
    if files is None:
        shutil.copytree(SOURCE, dst, ignore=shutil.ignore_patterns("build*", ".git", "*.egg-info"))
        return
    for f in files:
        if f.startswith("tests/fixtures/"):  # 37 MB the build does not read (the forward uses the source's)
            continue
        src = SOURCE / f
        if not src.is_file():  # deleted in the working tree
            continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / f)


FORWARD = r"""
import numpy as np, tribev2, sys
from tribev2._testing import make_tiny_model
folder = make_tiny_model(sys.argv[1], n_outputs=64)
m = tribev2.BrainModel.load(str(folder))
rng = np.random.default_rng(0)
batch = {"text": rng.standard_normal((1, 2, 64, 20)).astype(np.float32),
         "audio": rng.standard_normal((1, 2, 32, 20)).astype(np.float32),
         "video": rng.standard_normal((1, 2, 32, 20)).astype(np.float32)}
out = m.forward(batch)
assert out.shape == (1, 64, 15) and np.isfinite(out).all(), out.shape
print("forward ok", tribev2.__file__, tribev2.__version__, out.shape)
"""


def main():
    py = os.environ.get("TRIBEV2_PYTHON", "/usr/bin/python3")
    if not Path(py).is_file():
        skip(f"{py} not found")
    if subprocess.run([py, "-c", "import venv, ensurepip"], capture_output=True).returncode != 0:
        skip("python3 -m venv needs Debian's python3-venv (venv + ensurepip)")
    if subprocess.run([py, "-c", "import setuptools, wheel"], capture_output=True).returncode != 0:
        skip("--no-build-isolation needs Debian's python3-setuptools and python3-wheel")
    with tempfile.TemporaryDirectory(prefix="tribev2-pip-") as tmp:
        root = Path(tmp)
        src = root / "src"
        copy_tree(src)
        venv = root / "venv"
        r = subprocess.run([py, "-m", "venv", "--system-site-packages", str(venv)], capture_output=True, text=True)
        if r.returncode != 0:
            skip("python3 -m venv failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
        vpy = venv / "bin" / "python"
        if subprocess.run([str(vpy), "-m", "pip", "--version"], capture_output=True).returncode != 0:
            skip("pip is not available in the venv (Debian: python3-pip)")
        env = dict(os.environ)
        # Offline: no index, no proxy that could answer.
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", http_proxy="http://127.0.0.1:9",
                   https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                   CCACHE_BASEDIR=str(src.parent))
        env.pop("PYTHONPATH", None)
        t0 = time.monotonic()
        r = subprocess.run([str(vpy), "-m", "pip", "install", "--no-build-isolation", "-q", str(src)], env=env,
                           capture_output=True, text=True, cwd=root)
        print(f"pip install (in {src}): {time.monotonic() - t0:.0f} s, exit {r.returncode}")
        if r.returncode != 0:
            print(r.stdout[-6000:], r.stderr[-6000:])
            return 1
        # The installed package, not the source or build tree: run from elsewhere, no PYTHONPATH.
        env = dict(os.environ, TRIBEV2_SOURCE_DIR=str(SOURCE))
        env.pop("PYTHONPATH", None)
        r = subprocess.run([str(vpy), "-c", FORWARD, str(root / "tiny")], env=env, capture_output=True, text=True,
                           cwd=root)
        print(r.stdout, r.stderr[-3000:])
        if r.returncode != 0 or str(venv) not in r.stdout:
            print("the import did not come from the venv" if r.returncode == 0 else "forward failed")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
