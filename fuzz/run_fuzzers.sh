#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, seeded with the matching corpus folder in
# fuzz/corpus/<name>/ (plus the test fixtures it names). Fails if any target finds a crash.
#   fuzz/run_fuzzers.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?build dir}
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin")
  corpus=$(mktemp -d)
  if [[ -d "$here/corpus/$name" ]]; then cp -r "$here/corpus/$name/." "$corpus/"; fi
  if [[ -f "$here/corpus/$name.seeds" ]]; then
    while read -r f; do [[ -n "$f" && -f "$here/../$f" ]] && cp "$here/../$f" "$corpus/" 2>/dev/null || true; done < "$here/corpus/$name.seeds"
  fi
  echo "-- $name (${secs}s)"
  if ! "$bin" "$corpus" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
       -print_final_stats=0 -artifact_prefix="$build/fuzz/$name-" > "$build/fuzz/$name.log" 2>&1; then
    echo "   FAILED: see $build/fuzz/$name.log"; tail -30 "$build/fuzz/$name.log"; status=1
  fi
  rm -rf "$corpus"
done
exit $status
