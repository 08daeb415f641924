"""Builds the extension `tribev2._tribev2` with the project's CMake (target tribev2_python)
and installs it with the pure-Python part (python/tribev2). Environment:
TRIBEV2_CMAKE_ARGS (extra configure arguments), CMAKE_BUILD_PARALLEL_LEVEL (default 2)."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        # <root>/build-python: kept between installs, and at the depth of build/ so that ccache
        # (CCACHE_BASEDIR) reuses a developer build's objects.
        build = Path(os.environ.get("TRIBEV2_PIP_BUILD_DIR", ROOT / "build-python")).resolve()
        build.mkdir(parents=True, exist_ok=True)
        args = [
            "cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
            "-DTRIBEV2_BUILD_TESTS=OFF", "-DTRIBEV2_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
        args += shlex.split(os.environ.get("TRIBEV2_CMAKE_ARGS", ""))
        subprocess.run(args, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(["cmake", "--build", str(build), "--target", "tribev2_python", "--parallel", jobs], check=True)
        built = sorted((build / "python" / "tribev2").glob("_tribev2*.so"))
        if not built:
            raise RuntimeError(f"the extension was not built in {build / 'python' / 'tribev2'}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    package_dir={"": "python"},
    packages=["tribev2"],
    ext_modules=[CMakeExtension("tribev2._tribev2")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
