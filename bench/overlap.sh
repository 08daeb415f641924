#!/usr/bin/env bash
# Cost of `predict --overlap-trs K` (issue 13): forward passes and wall time for K = 0, 20, 50
# on the published-size random-weight model (../shared/bench/make_full_model.py) and SECONDS of
# random 2 Hz features (default 3600 = one hour), with `tribev2 predict` from the CLI. Writes
# bench/results/overlap-<date>-<host>.{json,md} and the table between the overlap markers of
# BENCHMARKS.md (bench/overlap_report.py).
#
#   bench/overlap.sh [--seconds S] [--repeat R] [--threads N] [--ks "0 20 50"] [--baseline TRIBEV2]
#
# --baseline: another tribev2 binary (e.g. the main branch's build) whose plain predict the K = 0
# output must equal byte for byte. Needs: a build in ./build (tribev2_cli), /usr/bin/python3 with
# numpy and yaml (Debian python3-numpy python3-yaml). Model and features are generated once
# under bench/cache/ (never committed). Heavy steps run under flock /tmp/tribev2-heavy.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_IN=3600
REPEAT=3
THREADS=2
KS="0 20 50"
BASELINE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECONDS_IN=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --ks) KS=$2; shift 2 ;;
    --baseline) BASELINE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SHARED=${TRIBEV2_SHARED:-$ROOT/../shared}
CLI=${TRIBEV2_BIN:-$ROOT/build/src/cli/tribev2}
PY=/usr/bin/python3
CACHE=$ROOT/bench/cache
[[ -x $CLI ]] || { echo "no tribev2 binary at $CLI: build first (cmake --build build --target tribev2_cli)" >&2; exit 1; }
[[ -f $SHARED/bench/make_full_model.py ]] || { echo "missing $SHARED/bench/make_full_model.py" >&2; exit 1; }
mkdir -p "$CACHE" bench/results
if [[ ! -f $CACHE/full_f32/model.safetensors ]]; then
  flock /tmp/tribev2-heavy.lock $PY "$SHARED/bench/make_full_model.py" "$CACHE/full_f32"
fi
FEAT=$CACHE/features_${SECONDS_IN}s
if [[ ! -f $FEAT/video.npy ]]; then
  $PY bench/make_features.py "$FEAT" "$SECONDS_IN"
fi
OUT=$(mktemp -d /tmp/tribev2-overlap.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
RAW=$OUT/runs.tsv
printf 'k\trun\twall_s\tpeak_rss_kb\n' > "$RAW"
for K in $KS; do
  for ((r = 0; r < REPEAT; ++r)); do
    # /usr/bin/time gives wall time and peak RSS of the whole process (load, predict, write).
    flock /tmp/tribev2-heavy.lock /usr/bin/time -f '%e %M' -o "$OUT/time" \
      "$CLI" -q --threads "$THREADS" predict --model "$CACHE/full_f32" \
      --features text="$FEAT/text.npy" --features audio="$FEAT/audio.npy" --features video="$FEAT/video.npy" \
      --overlap-trs "$K" --output "$OUT/k$K.npy"
    read -r WALL RSS < "$OUT/time"
    printf '%s\t%s\t%s\t%s\n' "$K" "$r" "$WALL" "$RSS" >> "$RAW"
    echo "K=$K run $r: $WALL s, peak RSS $RSS KB"
  done
done
SAME=""
if [[ -n $BASELINE ]]; then
  flock /tmp/tribev2-heavy.lock "$BASELINE" -q --threads "$THREADS" predict --model "$CACHE/full_f32" \
    --features text="$FEAT/text.npy" --features audio="$FEAT/audio.npy" --features video="$FEAT/video.npy" \
    --output "$OUT/baseline.npy"
  if cmp -s "$OUT/baseline.npy" "$OUT/k0.npy"; then SAME=identical; else SAME=different; fi
  echo "K=0 vs baseline ($BASELINE): $SAME"
fi
$PY bench/overlap_report.py --runs "$RAW" --dir "$OUT" --seconds "$SECONDS_IN" --threads "$THREADS" \
  --baseline "$BASELINE" --baseline-result "$SAME" --ks "$KS"
