#!/usr/bin/env bash
# The main job: install what is missing, build tribev2 (Release), run the offline demo.
#   ./scripts/setup.sh            -> build/ and demo-output/
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIBEV2_BUILD_TESTS=OFF
cmake --build build --parallel
./build/src/cli/tribev2 demo --out demo-output
echo
echo "tribev2 is built: ./build/src/cli/tribev2 --help"
