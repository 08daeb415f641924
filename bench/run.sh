#!/usr/bin/env bash
# The brain-model CPU benchmark in one command: builds Release (with the bench driver),
# generates the full-size random model (F32 and BF16 files, a best.ckpt) and one hour of
# features under bench/cache/ (never committed), then runs PyTorch and ours side by side and
# writes bench/results/<date>-<host>.{json,md} and PNG charts (see BENCHMARKS.md).
#
#   bench/run.sh [--repeat 10] [--quick]
#   bench/run.sh --extractors [--quick] ...    the three feature extractors instead: bench/extractors.sh
#
# Environment: TRIBEV2_SHARED (default ../shared: make_full_model.py, torch_reference.py),
# BUILD_DIR (default build-bench). Needs Debian's python3-torch, python3-numpy, python3-yaml,
# python3-matplotlib (for /usr/bin/python3). Heavy steps take /tmp/tribev2-heavy.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --extractors ]]; then
  shift
  exec bench/extractors.sh "$@"
fi
ROOT=$PWD
SHARED=${TRIBEV2_SHARED:-$ROOT/../shared}
BUILD=${BUILD_DIR:-$ROOT/build-bench}
CACHE=$ROOT/bench/cache
PY=/usr/bin/python3
export TRIBEV2_SHARED_BENCH=$SHARED/bench

echo "[bench] load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# A fresh build dir gets no tests; an existing one (e.g. BUILD_DIR=build-test) keeps its choice.
tests_flag=(-DTRIBEV2_BUILD_TESTS=OFF)
[ -f "$BUILD/CMakeCache.txt" ] && tests_flag=()
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${tests_flag[@]}" -DTRIBEV2_BUILD_BENCH=ON >/dev/null
nice cmake --build "$BUILD" -j2 --target tribev2_bench tribev2_cli

mkdir -p "$CACHE"
if [ ! -f "$CACHE/full_f32/model.safetensors" ]; then
  flock /tmp/tribev2-heavy.lock $PY "$SHARED/bench/make_full_model.py" "$CACHE/full_f32"
fi
if [ ! -f "$CACHE/full_bf16/model.safetensors" ]; then
  flock /tmp/tribev2-heavy.lock $PY "$SHARED/bench/make_full_model.py" "$CACHE/full_bf16" --dtype BF16
fi
if [ ! -f "$CACHE/full_f32/ckpt/best.ckpt" ]; then
  flock /tmp/tribev2-heavy.lock $PY bench/make_ckpt.py "$CACHE/full_f32"
fi
if [ ! -f "$CACHE/features_1h/video.npy" ]; then
  $PY bench/make_features.py "$CACHE/features_1h" 3600
fi
if [ ! -f "$CACHE/features_10min/video.npy" ]; then
  $PY bench/make_features.py "$CACHE/features_10min" 600
fi

$PY bench/run_bench.py --build "$BUILD" --cache "$CACHE" --shared "$SHARED" "$@"
