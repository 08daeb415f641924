#!/usr/bin/env bash
# Audio features benchmark (issue 7): real-time factor and peak memory of w2v-BERT 2.0 at the
# full published size (random weights of the real shapes) on 60 s of audio, C++ versus a plain
# PyTorch re-implementation of HF's forward on the same weights and the same input features.
#
#   bench/audio_bench.sh [THREADS] [SECONDS]        (defaults: 2 threads, 60 s)
#
# Heavy (2.4 GB of weights, minutes of CPU): every step runs under the shared heavy-job lock.
# The model is generated once into bench/cache/w2vbert-full (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
SECONDS_AUDIO=${2:-60}
LOCK=/tmp/tribev2-heavy.lock
CACHE=bench/cache
MODEL=$CACHE/w2vbert-full
mkdir -p "$CACHE"

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIBEV2_BUILD_TESTS=OFF -DTRIBEV2_BUILD_BENCH=ON >/dev/null
nice cmake --build build-bench -j2 --target audio_w2vbert_bench
BIN=build-bench/bench/audio_w2vbert_bench

if [[ ! -f $MODEL/model.safetensors ]]; then
  flock "$LOCK" "$BIN" make-model "$MODEL"
fi

echo "== C++ (tribev2), $THREADS threads"
flock "$LOCK" /usr/bin/time -f "  wall %e s, max RSS %M KB (time -f)" \
  "$BIN" run "$MODEL" --seconds "$SECONDS_AUDIO" --threads "$THREADS" \
  --features-out "$CACHE/features_${SECONDS_AUDIO}s.npy" --output-out "$CACHE/audio_out_f32.npy" \
  --json "$CACHE/cpp_${THREADS}t.json"

echo "== C++ (tribev2), $THREADS threads, --precision bf16"
flock "$LOCK" /usr/bin/time -f "  wall %e s, max RSS %M KB (time -f)" \
  "$BIN" run "$MODEL" --seconds "$SECONDS_AUDIO" --threads "$THREADS" --precision bf16 \
  --output-out "$CACHE/audio_out_bf16.npy" --json "$CACHE/cpp_bf16_${THREADS}t.json"
# Fidelity of bf16 against f32 on the same input: per feature (one of the 3 x 1024 grouped
# features, over the 2 Hz rows) Pearson r, and the largest difference relative to max |f32|.
/usr/bin/python3 - "$CACHE/audio_out_f32.npy" "$CACHE/audio_out_bf16.npy" <<'PY'
import sys
import numpy as np
a, b = (np.load(f).astype(np.float64) for f in sys.argv[1:3])
a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
ac, bc = a2 - a2.mean(1, keepdims=True), b2 - b2.mean(1, keepdims=True)
r = (ac * bc).sum(1) / np.sqrt((ac * ac).sum(1) * (bc * bc).sum(1))
print(f"  bf16 vs f32 ({a.shape}): per-feature Pearson r min {r.min():.6f}, median {np.median(r):.6f}; "
      f"max |bf16 - f32| = {np.abs(a - b).max() / np.abs(a).max():.2e} x max |f32|")
PY

echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $THREADS threads, HF's relative_key algorithm"
flock "$LOCK" /usr/bin/time -f "  wall %e s, max RSS %M KB (time -f)" \
  /usr/bin/python3 bench/audio_w2vbert_torch.py time "$MODEL" --features "$CACHE/features_${SECONDS_AUDIO}s.npy" \
  --threads "$THREADS" --relpos hf --json "$CACHE/torch_hf_${THREADS}t.json"

echo "== PyTorch, $THREADS threads, gathered relative_key (lighter than HF)"
flock "$LOCK" /usr/bin/time -f "  wall %e s, max RSS %M KB (time -f)" \
  /usr/bin/python3 bench/audio_w2vbert_torch.py time "$MODEL" --features "$CACHE/features_${SECONDS_AUDIO}s.npy" \
  --threads "$THREADS" --relpos gather --json "$CACHE/torch_gather_${THREADS}t.json"
