#!/usr/bin/env bash
# The three feature extractors at full size, ours and PyTorch's side by side, in one command
# (issue 16). Also reachable as `bench/run.sh --extractors`.
#
#   bench/extractors.sh [--threads 2] [--quick] [--torch-hf]
#
# In one run, under /tmp/tribev2-heavy.lock (every step sees the same machine):
#   - the machine's matmul limit per precision: the best of our GEMM, OpenBLAS's sgemm and
#     PyTorch's linear on one large product (bench/matmul_limit.cpp, matmul_limit_torch.py),
#     measured at the start and at the end (the report uses the larger);
#   - text: Llama-3.2-3B forward of 512 tokens (bench/text_bench.cpp), f32 and bf16, and
#     bench/text_llama_torch.py f32 and bf16 on the same folder; the 1,500-word transcript's
#     token count on the shared-prefix path (the 10-minute-video estimate);
#   - audio: w2v-BERT 2.0 on 60 s (bench/audio_w2vbert_bench.cpp), f32 and bf16, and
#     bench/audio_w2vbert_torch.py on the same input features (f32, bf16 autocast; the lighter
#     gathered relative_key, or also HF's with --torch-hf);
#   - video: V-JEPA2 ViT-g, 2 layers of a 2 Hz bin timed and extrapolated to 40
#     (bench/video_bench.cpp), f32 and bf16, and one layer in bench/video_torch_layer.py.
# Random weights of the real shapes, generated once under bench/cache/ (never committed; ~9 GB).
# Every measurement is one JSON line in bench/results/extractors-<date>-<host>.jsonl;
# bench/extractors_report.py turns it into the .md next to it and the table in BENCHMARKS.md
# (between the extractors markers: generated, never hand-edited). --quick: 128 tokens, 10 s of
# audio, 1 video layer, to try the script (its figures are not comparable).
#
# Environment: BUILD_DIR (default build-bench). Needs /usr/bin/python3 with Debian's
# python3-torch and python3-numpy. Takes ~5 min on 2 cores once the models exist (generating them
# the first time adds a few minutes; --torch-hf adds HF's slower relative_key in PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-$ROOT/build-bench}
CACHE=$ROOT/bench/cache
PY=/usr/bin/python3
THREADS=2
QUICK=0
TORCH_HF=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --torch-hf) TORCH_HF=1; shift ;;
    *) echo "usage: bench/extractors.sh [--threads N] [--quick] [--torch-hf]" >&2; exit 2 ;;
  esac
done
TOKENS=512; AUDIO_S=60; VIDEO_LAYERS=2; FIDELITY_WORDS=200
if [[ $QUICK == 1 ]]; then TOKENS=128; AUDIO_S=10; VIDEO_LAYERS=1; FIDELITY_WORDS=24; fi

tests_flag=(-DTRIBEV2_BUILD_TESTS=OFF)
[[ -f "$BUILD/CMakeCache.txt" ]] && tests_flag=()
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${tests_flag[@]}" -DTRIBEV2_BUILD_BENCH=ON >/dev/null
nice cmake --build "$BUILD" -j2 --target matmul_limit_bench text_bench audio_w2vbert_bench video_bench
BIN=$BUILD/bench

mkdir -p "$CACHE/text" bench/results
STAMP=$(date -u +%Y-%m-%d)-$(hostname -s | tr -c 'A-Za-z0-9_\n-' _)
[[ $QUICK == 1 ]] && STAMP=$STAMP-quick
OUT=$ROOT/bench/results/extractors-$STAMP.jsonl
: > "$OUT"
# Keeps the JSON lines of a command's output (echoing everything to the terminal).
record() { "$@" | tee /dev/stderr | grep '^{' >> "$OUT"; }
# Appends a JSON file (the audio benches write one) as one line.
record_file() { $PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$1" >> "$OUT"; }
host_line() {
  $PY - "$1" "$THREADS" "$QUICK" <<'PY'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
print(json.dumps({"command": "host", "when": sys.argv[1], "loadavg": list(os.getloadavg()), "cpu": cpu,
                  "cores": os.cpu_count(), "threads": int(sys.argv[2]), "quick": sys.argv[3] == "1",
                  "isa": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]}))
PY
}

export TRIBEV2_NUM_THREADS=$THREADS
LLAMA=$CACHE/text/llama-3b
W2V=$CACHE/w2vbert-full
flock /tmp/tribev2-heavy.lock bash -c "$(declare -f record record_file host_line); set -euo pipefail
  OUT='$OUT'; PY='$PY'; THREADS=$THREADS; QUICK=$QUICK
  record host_line before
  # Models (once): Llama-3.2-3B shapes (bf16, 6.4 GB), w2v-BERT 2.0 (F32, 2.4 GB); V-JEPA2 layers
  # are written by video_bench itself.
  [[ -f '$CACHE/text/words.json' ]] || '$BIN/text_bench' make-words '$CACHE/text/words.json' --words 1500
  [[ -f '$LLAMA/model.safetensors.index.json' ]] || '$BIN/text_bench' make-model '$LLAMA'
  [[ -f '$W2V/model.safetensors' ]] || '$BIN/audio_w2vbert_bench' make-model '$W2V'

  record '$BIN/matmul_limit_bench' --threads $THREADS
  record \$PY bench/matmul_limit_torch.py --threads $THREADS

  record '$BIN/text_bench' plan '$LLAMA' '$CACHE/text/words.json' --max-context-len 1024
  record '$BIN/text_bench' forward '$LLAMA' --tokens $TOKENS
  record '$BIN/text_bench' forward '$LLAMA' --tokens $TOKENS --bf16
  record \$PY bench/text_llama_torch.py '$LLAMA' --tokens $TOKENS --dtype f32 --threads $THREADS
  record \$PY bench/text_llama_torch.py '$LLAMA' --tokens $TOKENS --dtype bf16 --threads $THREADS
  record '$BIN/text_bench' fidelity '$LLAMA' '$CACHE/text/words.json' --first $FIDELITY_WORDS

  j='$CACHE/extractors-audio.json'
  '$BIN/audio_w2vbert_bench' run '$W2V' --seconds $AUDIO_S --threads $THREADS \
    --features-out '$CACHE/features_${AUDIO_S}s.npy' --output-out '$CACHE/extractors-audio-f32.npy' --json \"\$j\"
  record_file \"\$j\"
  '$BIN/audio_w2vbert_bench' run '$W2V' --seconds $AUDIO_S --threads $THREADS --precision bf16 \
    --output-out '$CACHE/extractors-audio-bf16.npy' --json \"\$j\"
  record_file \"\$j\"
  relpos=gather; [[ $TORCH_HF == 1 ]] && relpos='gather hf'
  for r in \$relpos; do
    for d in f32 bf16; do
      \$PY bench/audio_w2vbert_torch.py time '$W2V' --features '$CACHE/features_${AUDIO_S}s.npy' \
        --threads $THREADS --relpos \$r --dtype \$d --json \"\$j\"
      record_file \"\$j\"
    done
  done

  record '$BIN/video_bench' --layers $VIDEO_LAYERS --threads $THREADS --precision f32,bf16 --cache '$CACHE' --fidelity
  record \$PY bench/video_torch_layer.py --threads $THREADS

  record '$BIN/matmul_limit_bench' --threads $THREADS
  record \$PY bench/matmul_limit_torch.py --threads $THREADS
  record host_line after
"
# Fidelity of the audio features (bf16 vs f32, the grouped 2 Hz features the extractor writes).
$PY bench/extractors_report.py fidelity-npy audio "$CACHE/extractors-audio-f32.npy" "$CACHE/extractors-audio-bf16.npy" >> "$OUT"
if [[ $QUICK == 1 ]]; then
  $PY bench/extractors_report.py report "$OUT"
  echo "extractors: wrote $OUT and ${OUT%.jsonl}.md (--quick: BENCHMARKS.md left alone)" >&2
else
  $PY bench/extractors_report.py report "$OUT" --benchmarks "$ROOT/BENCHMARKS.md"
  echo "extractors: wrote $OUT, ${OUT%.jsonl}.md and the extractors table of BENCHMARKS.md" >&2
fi
