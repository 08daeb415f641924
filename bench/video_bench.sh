#!/usr/bin/env bash
# Builds and runs bench/video_bench.cpp against an existing build tree (default: build/), under
# the shared heavy-job lock. Random ViT-g weights go to bench/cache/ (never committed).
#   bench/video_bench.sh [--layers N] [--threads N] [--precision f32,bf16] [--torch]
# --torch also times one layer in PyTorch (bench/video_torch_layer.py, /usr/bin/python3) in the
# same locked run. Pass BUILD=dir to use another build tree. Timings on a loaded machine are
# noisy: rerun on a quiet one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
cmake --build "$BUILD" --target tribev2_video > /dev/null
mkdir -p bench/cache
OUT=bench/cache/video_bench
nice c++ -std=c++20 -O3 -march=native -DNDEBUG -Iinclude -Isrc/features/video bench/video_bench.cpp \
  "$BUILD/src/features/video/libtribev2_video.a" "$BUILD/src/media/libtribev2_media.a" \
  "$BUILD/src/events/libtribev2_events.a" "$BUILD/src/features/libtribev2_features.a" \
  "$BUILD/src/io/libtribev2_io.a" "$BUILD/src/core/libtribev2_core.a" \
  $(pkg-config --libs libavformat libavcodec libswscale libavutil libzip openblas libcrypto) -lpthread -o "$OUT"
TORCH=0
ARGS=()
for a in "$@"; do
  if [[ "$a" == "--torch" ]]; then TORCH=1; else ARGS+=("$a"); fi
done
# One lock for both programs so that they see the same machine.
flock /tmp/tribev2-heavy.lock bash -c '
  uptime
  /usr/bin/time -v "$0" "${@:2}" 2> >(grep -E "Maximum resident|Elapsed|Percent of CPU" >&2)
  if [[ "$1" == 1 ]]; then /usr/bin/python3 bench/video_torch_layer.py --threads "$(nproc)"; fi
' "$OUT" "$TORCH" "${ARGS[@]+"${ARGS[@]}"}"
