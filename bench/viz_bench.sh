#!/usr/bin/env bash
# Builds and runs the visualisation benchmark against the real fsaverage5 meshes and, when
# given, a prediction file (e.g. the demo's: ./build/src/cli/tribev2 demo --out /tmp/demo).
#   bench/viz_bench.sh [MESH_DIR] [PREDS.npy]
# Needs a configured build in ./build-bench (created here with TRIBEV2_BUILD_BENCH=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
MESH=${1:-../shared/data/fsaverage5}
PREDS=${2:-}
if [[ ! -f bench/CMakeLists.txt ]]; then
  echo "bench/CMakeLists.txt is missing: add 'include(viz_bench.cmake)' to it (the lead wires bench/)" >&2
  exit 1
fi
cmake -S . -B build-bench -G Ninja -DTRIBEV2_BUILD_BENCH=ON -DTRIBEV2_BUILD_TESTS=OFF >/dev/null
nice cmake --build build-bench -j2 --target viz_bench
./build-bench/bench/viz_bench "$MESH" $PREDS
