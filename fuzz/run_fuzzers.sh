#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), JOBS targets at a time (default
# nproc), seeded with fuzz/corpus/<name>/ (valid files from make_seeds.py, crash regressions,
# plus the test fixtures listed in fuzz/corpus/<name>.seeds) and, for the JSON/XML/YAML
# parsers, a dictionary from fuzz/dict/. Fails if any target finds a crash, a leak, a timeout
# or an out-of-memory. Writes BUILD_DIR/fuzz/summary.tsv (target, seconds, runs, corpus size,
# status) and prints the stage's wall time.
#   fuzz/run_fuzzers.sh BUILD_DIR [SECONDS] [JOBS]
# With FUZZ_DOC=docs/reliability.md the figures also go into that file (fuzz/write_doc.py).
set -euo pipefail
build=${1:?build dir}
secs=${2:-60}
jobs=${3:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dict_for() {
  case "$1" in
    fuzz_config) echo "$here/dict/yaml.dict" ;;
    fuzz_gifti) echo "$here/dict/xml.dict" ;;
    fuzz_tokenizer_json | fuzz_transcripts | fuzz_build_args | fuzz_words | fuzz_hf_configs | fuzz_segments | \
      fuzz_cache_entry | fuzz_safetensors) echo "$here/dict/json.dict" ;;
  esac
}

run_one() {
  local bin=$1 name corpus dict log
  name=$(basename "$bin")
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [[ -d "$here/corpus/$name" ]]; then cp -r "$here/corpus/$name/." "$corpus/"; fi
  if [[ -f "$here/corpus/$name.seeds" ]]; then
    while read -r f; do [[ -n "$f" && -f "$here/../$f" ]] && cp "$here/../$f" "$corpus/" 2>/dev/null || true; done < "$here/corpus/$name.seeds"
  fi
  dict=$(dict_for "$name")
  log="$build/fuzz/$name.log"
  local status=ok
  if ! "$bin" "$corpus" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
       -print_final_stats=1 ${dict:+-dict="$dict"} -artifact_prefix="$build/fuzz/$name-" > "$log" 2>&1; then
    status=FAILED
  fi
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "${runs:-?}" "$(ls "$corpus" | wc -l)" "$status" > "$work/$name.result"
  echo "-- $name: ${runs:-?} runs in ${secs}s, corpus $(ls "$corpus" | wc -l) files: $status"
  [[ $status == ok ]]
}

start=$(date +%s)
bins=()
for bin in "$build"/fuzz/fuzz_*; do [[ -x "$bin" && -f "$bin" ]] && bins+=("$bin"); done
echo "== ${#bins[@]} fuzz targets, ${secs}s each, $jobs at a time"
status=0
running=0
for bin in "${bins[@]}"; do
  if (( running >= jobs )); then wait -n || status=1; running=$((running - 1)); fi
  run_one "$bin" &
  running=$((running + 1))
done
while (( running > 0 )); do wait -n || status=1; running=$((running - 1)); done
wall=$(( $(date +%s) - start ))
{ printf 'target\tseconds\truns\tcorpus_files\tstatus\n'; cat "$work"/*.result; } > "$build/fuzz/summary.tsv"
echo "== fuzz stage: ${#bins[@]} targets in ${wall}s wall ($jobs at a time)"
echo "fuzz_stage_wall_s=$wall" >> "$build/fuzz/summary.tsv"
if [[ -n "${FUZZ_DOC:-}" ]]; then FUZZ_JOBS=$jobs /usr/bin/python3 "$here/write_doc.py" "$build/fuzz/summary.tsv" "$FUZZ_DOC"; fi
if (( status != 0 )); then
  for f in "$work"/*.result; do
    if grep -q FAILED "$f"; then n=$(cut -f1 "$f"); echo "   FAILED: $n, see $build/fuzz/$n.log"; tail -30 "$build/fuzz/$n.log"; fi
  done
fi
exit $status
