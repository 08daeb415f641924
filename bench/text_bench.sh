#!/usr/bin/env bash
# Text features at the real Llama-3.2-3B size (random bf16 weights, 6.4 GB, generated once into
# bench/cache/text, never committed): forward tokens/s in f32 and bf16 with PyTorch's forward on
# the same folder in the same run (Debian's python3-torch), words/s end to end (shared-prefix
# path and upstream's per-word loop) and peak memory. Holds /tmp/tribev2-heavy.lock throughout.
#
#   bench/text_bench.sh            # uses ./build (configure + build it first)
#   BUILD=/path/to/build THREADS=2 WORDS_FIRST=48 bench/text_bench.sh
#
# Output: one JSON line per measurement on stdout (also appended to bench/cache/text/results.jsonl);
# then bench/text_doc.py writes the latest figures into docs/text-features.md (never hand-copied).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
cache=${TEXT_BENCH_CACHE:-$root/bench/cache/text}
threads=${THREADS:-$(nproc)}
first=${WORDS_FIRST:-48}
per_word_first=${PER_WORD_FIRST:-16}
mkdir -p "$cache"
exe=$cache/text_bench
libs=(src/features/text/libtribev2_text.a src/features/libtribev2_features.a src/events/libtribev2_events.a
      src/io/libtribev2_io.a src/core/libtribev2_core.a)
[[ -f $build/CMakeCache.txt ]] || { echo "text_bench: configure $build first (cmake -S . -B $build)" >&2; exit 1; }
# The libraries must match the headers this file is compiled with: build them first.
cmake --build "$build" --target tribev2_text tribev2_features tribev2_events tribev2_io tribev2_core >/dev/null
nice g++ -std=c++20 -O3 -DNDEBUG -I"$root/include" "$root/bench/text_bench.cpp" "${libs[@]/#/$build/}" \
  $(pkg-config --libs libpcre2-8 openblas libzip libcrypto) -lpthread -o "$exe"
export TRIBEV2_NUM_THREADS=$threads
run() { "$exe" "$@" | tee -a "$cache/results.jsonl"; }
flock /tmp/tribev2-heavy.lock bash -c "$(declare -f run); exe='$exe'; cache='$cache'; set -euo pipefail
  [[ -f '$cache/words.json' ]] || run make-words '$cache/words.json' --words 1500
  [[ -f '$cache/llama-3b/model.safetensors.index.json' ]] || run make-model '$cache/llama-3b'
  run plan '$cache/llama-3b' '$cache/words.json' --max-context-len 1024
  run forward '$cache/llama-3b' --tokens 512
  run forward '$cache/llama-3b' --tokens 64
  run forward '$cache/llama-3b' --tokens 512 --bf16
  run forward '$cache/llama-3b' --tokens 512 --bf16 --llama-bf16
  # PyTorch side by side, same folder, same threads (bench/text_llama_torch.py).
  /usr/bin/python3 '$root/bench/text_llama_torch.py' '$cache/llama-3b' --tokens 512 --dtype f32 --threads $threads | tee -a '$cache/results.jsonl'
  /usr/bin/python3 '$root/bench/text_llama_torch.py' '$cache/llama-3b' --tokens 512 --dtype bf16 --threads $threads | tee -a '$cache/results.jsonl'
  run words '$cache/llama-3b' '$cache/words.json' --first $first
  run fidelity '$cache/llama-3b' '$cache/words.json' --first $first
  run words '$cache/llama-3b' '$cache/words.json' --first $per_word_first --per-word
  # A window that slides (max_context_len 32): every word after the 32nd needs its own pass.
  run plan '$cache/llama-3b' '$cache/words.json' --max-context-len 32
  run words '$cache/llama-3b' '$cache/words.json' --first 48 --max-context-len 32
"
/usr/bin/python3 "$root/bench/text_doc.py" "$cache/results.jsonl" "$root/docs/text-features.md"
echo "text_bench: docs/text-features.md updated from $cache/results.jsonl" >&2
