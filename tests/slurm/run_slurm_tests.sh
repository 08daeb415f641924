#!/usr/bin/env bash
# Issue 18 on a real Slurm: a private one-node cluster for this host (munged, slurmctld,
# slurmd started here, stopped by pid on exit), then
#   1. a 4-item manifest as a job array with --max-parallel 2, batch-status --wait: every
#      item's outputs byte-identical (cmp) to separate `tribev2 run` calls;
#   2. one stimulus split into 4 shards (`run --slurm --tasks 4`), assembled by the gather
#      job: byte-identical to a single-process run;
#      a lost shard is found by batch-status and --resume reruns only it;
#   3. a batch cancelled (scancel) mid-way, then `batch-status --resume`: only the missing
#      shards are resubmitted, the outputs end up identical, no partial cache entry;
#   4. a bad manifest row: a clear error naming the file, row and column, nothing submitted.
# Usage: run_slurm_tests.sh TRIBEV2 MAKE_TINY_MODEL FIXTURES_DIR
# Exit 77 (skipped) without root or without the slurm-wlm/munge binaries.
set -euo pipefail

TRIBEV2=$(realpath "$1")
MAKE_MODEL=$(realpath "$2")
FIXTURES=$(realpath "$3")

for b in munged slurmctld slurmd sbatch squeue scancel sinfo; do
  if ! command -v "$b" > /dev/null 2>&1 && [ ! -x "/usr/sbin/$b" ]; then
    echo "SKIPPED: $b not found (install slurm-wlm and munge: scripts/install-deps.sh --test)"
    exit 77
  fi
done
export PATH="$PATH:/usr/sbin"
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: the Slurm tests start slurmctld/slurmd themselves and need root"
  exit 77
fi

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=slurm_env.sh
source "$HERE/slurm_env.sh"
WORK=$(mktemp -d /tmp/tribev2-slurm-test.XXXXXX)
cleanup() {
  local rc=$?
  [ -n "${SLURM_CONF:-}" ] && scancel --user=root > /dev/null 2>&1 || true
  slurm_stop
  if [ $rc -ne 0 ]; then
    echo "---- slurm logs ----" >&2
    tail -n 20 "$WORK"/slurm/log/*.log >&2 2> /dev/null || true
    for f in "$WORK"/*/slurm/logs/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
export HF_HUB_OFFLINE=1
export TRIBEV2_NUM_THREADS=1

t_start=$SECONDS
step() { echo "== [$(( SECONDS - t_start )) s] $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

step "starting munged, slurmctld, slurmd in $WORK/slurm"
slurm_start "$WORK/slurm"

MODEL=$WORK/model
"$MAKE_MODEL" "$FIXTURES" "$MODEL"
MODELS=(--model "$MODEL" --llama "$FIXTURES/text_features/tiny-llama" --audio-model "$FIXTURES/audio_features/tiny-w2v-bert" --no-brain-maps)

# events.tsv names the synthesised speech by its path in the cache, so every run below uses the
# same cache path, $WORK/c, fresh each time (the previous one is moved aside).
fresh_cache() { if [ -d "$WORK/c" ]; then mv "$WORK/c" "$WORK/c.$1"; fi; }

# Every file a run wrote in $2 must be byte-identical to $1's (run.json records timings and
# paths, so it is left out), and the same files must exist.
same_outputs() {
  local ref=$1 got=$2 f n=0
  [ -f "$got/run.json" ] || die "$got/run.json missing"
  for f in $(cd "$ref" && find . -type f ! -name run.json ! -path './cache/*' ! -path './.shards/*' ! -path './slurm/*' | sort); do
    [ -f "$got/$f" ] || die "$got/$f missing"
    cmp "$ref/$f" "$got/$f" || die "$got/$f differs from $ref/$f"
    n=$((n + 1))
  done
  [ $n -ge 4 ] || die "only $n files compared in $ref"
  local extra
  extra=$(cd "$got" && find . -type f ! -name run.json ! -path './cache/*' ! -path './.shards/*' ! -path './slurm/*' | sort)
  [ "$extra" = "$(cd "$ref" && find . -type f ! -name run.json ! -path './cache/*' ! -path './.shards/*' ! -path './slurm/*' | sort)" ] ||
    die "$got has other files than $ref"
}

# No cache folder without a complete entry (entry.json), no leftover temporaries of dead tasks.
no_partial_entries() {
  local cache=$1 d
  for d in "$cache"/*/*; do
    [ -d "$d" ] || continue
    case "$(basename "$d")" in .tmp-*) die "leftover temporary $d";; esac
    [ "$(basename "$(dirname "$d")")" = tmp ] && continue
    [ -f "$d/entry.json" ] || die "partial cache entry $d (no entry.json)"
  done
}

# ---- stimuli ------------------------------------------------------------------------------
mkdir -p "$WORK/stim"
echo "The cat sat on the mat. It was warm." > "$WORK/stim/a.txt"
echo "A dog ran in the park and barked twice." > "$WORK/stim/b.txt"
echo "Rain fell all night. The river rose slowly." > "$WORK/stim/c.txt"
echo "She opened the window and listened to the birds." > "$WORK/stim/d.txt"
printf 'id\ttext\n' > "$WORK/manifest.tsv"
for x in a b c d; do printf 'item_%s\tstim/%s.txt\n' "$x" "$x" >> "$WORK/manifest.tsv"; done

step "reference: separate tribev2 run calls"
for x in a b c d; do
  "$TRIBEV2" -q run --text "$WORK/stim/$x.txt" --out "$WORK/ref/item_$x" --cache-dir "$WORK/c" "${MODELS[@]}"
done

# ---- 1. 4-item manifest as an array, --max-parallel 2 -------------------------------------
step "case 1: batch --slurm --max-parallel 2, batch-status --wait"
cd "$WORK"
fresh_cache ref
"$TRIBEV2" -q batch manifest.tsv --out "$WORK/b1" --cache-dir "$WORK/c" "${MODELS[@]}" --slurm --max-parallel 2 | tee "$WORK/submit1.txt"
grep -q '^#SBATCH --array=1-4%2$' "$WORK/b1/slurm/array.sbatch" || die "array.sbatch: no --array=1-4%2"
grep -q '^gather job [0-9]* (afterany:[0-9]*)' "$WORK/submit1.txt" || die "no gather job id printed"
"$TRIBEV2" batch-status "$WORK/b1" --wait --poll 1 | tee "$WORK/status1.txt"
grep -q 'items: 4, 4 done' "$WORK/status1.txt" || die "batch-status: not 4 done"
[ "$(awk -F'\t' 'NR > 1 && $4 == "done"' "$WORK/b1/batch.tsv" | wc -l)" = 4 ] || die "batch.tsv: not 4 done"
for x in a b c d; do same_outputs "$WORK/ref/item_$x" "$WORK/b1/item_$x"; done
ls "$WORK"/b1/slurm/logs/gather-*.log > /dev/null || die "the gather job did not run"
no_partial_entries "$WORK/c"

# ---- 2. one stimulus in 4 shards ----------------------------------------------------------
# ~190 s of speech: the text stage and three or four audio chunks (<= 60 s each): >= 4 units.
python3 - "$WORK/stim/long.txt" << 'PY'
import sys
words = ("the quick brown fox jumps over a lazy dog while seven tall ships sail past "
         "green hills under a pale morning sky and children laugh near the old stone bridge").split()
sents = []
for i in range(66):
    w = words[(i * 7) % len(words):] + words[:(i * 7) % len(words)]
    sents.append(" ".join(w[:9]).capitalize() + ".")
open(sys.argv[1], "w").write(" ".join(sents) + "\n")
PY
step "case 2: reference single-process run of a long text"
fresh_cache 1
"$TRIBEV2" -q run --text "$WORK/stim/long.txt" --out "$WORK/ref/long" --cache-dir "$WORK/c" "${MODELS[@]}"
fresh_cache ref2
step "case 2: run --slurm --tasks 4 (4 shards + gather)"
"$TRIBEV2" -q run --text "$WORK/stim/long.txt" --out "$WORK/long" --cache-dir "$WORK/c" "${MODELS[@]}" --slurm --tasks 4 | tee "$WORK/submit2.txt"
"$TRIBEV2" batch-status "$WORK/long" --wait --poll 1 | tee "$WORK/status2.txt"
grep -q 'shards: 4, 4 finished; outputs assembled' "$WORK/status2.txt" || die "run shards not all finished/assembled"
python3 - "$WORK/long" << 'PY'
import json, sys, glob
d = sys.argv[1]
units = {}
for f in sorted(glob.glob(d + "/.shards/*-of-4.json")):
    r = json.load(open(f))
    for u in r["units"]:
        units[u["unit"]] = u["shard"]
        if u["shard"] == r["shard"]:
            assert u["status"] in ("computed", "cached"), (f, u)
assert len(units) >= 4, units
assert len(set(units.values())) == 4, ("every shard got a unit", units)
run = json.load(open(d + "/run.json"))
st = {s["name"]: s["status"] for s in run["stages"]}
assert st["text features"] == "cached" and st["audio features"] == "cached", st
print("units:", units)
PY
same_outputs "$WORK/ref/long" "$WORK/long"
no_partial_entries "$WORK/c"

step "case 2b: a lost shard (its unit and report removed) -> batch-status --resume reruns only it"
unit2=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(next(u['stage']+'/'+u['key'] for u in r['units'] if u['shard']==2))" "$WORK/long/.shards/2-of-4.json")
rm -rf "$WORK/c/$unit2" "$WORK/long/.shards/2-of-4.json" "$WORK/long/run.json" "$WORK/long/preds.npy"
"$TRIBEV2" batch-status "$WORK/long" > "$WORK/status2b.txt" || true
grep -q 'shard 2/4: not finished' "$WORK/status2b.txt" || die "the lost shard is not reported"
"$TRIBEV2" batch-status "$WORK/long" --resume | tee "$WORK/resume2.txt"
grep -q '^array job [0-9]* (1 task(s): 2)' "$WORK/resume2.txt" || die "--resume did not resubmit exactly shard 2"
"$TRIBEV2" batch-status "$WORK/long" --wait --poll 1 | tee "$WORK/status2c.txt"
grep -q 'shards: 4, 4 finished; outputs assembled' "$WORK/status2c.txt" || die "not assembled after --resume"
[ -d "$WORK/c/$unit2" ] || die "the lost unit was not recomputed"
same_outputs "$WORK/ref/long" "$WORK/long"

# ---- 3. cancelled mid-way, then resumed ---------------------------------------------------
step "case 3: batch cancelled mid-way (scancel), then batch-status --resume"
printf 'id\ttext\n' > "$WORK/manifest3.tsv"
for x in a b c d; do printf 'item_%s\tstim/%s.txt\n' "$x" "$x" >> "$WORK/manifest3.tsv"; done
printf 'item_long\tstim/long.txt\n' >> "$WORK/manifest3.tsv"
fresh_cache 2
"$TRIBEV2" -q batch manifest3.tsv --out "$WORK/b3" --cache-dir "$WORK/c" "${MODELS[@]}" --slurm --max-parallel 1 | tee "$WORK/submit3.txt"
array3=$(sed -n 's/^array job \([0-9]*\).*/\1/p' "$WORK/submit3.txt")
# Cancel once an item is done while the next one runs (mid-way through it).
for _ in $(seq 1 1200); do
  if grep -q '"done"' "$WORK"/b3/status/*.json 2> /dev/null && grep -q '"running"' "$WORK"/b3/status/*.json 2> /dev/null; then
    break
  fi
  sleep 0.05
done
scancel "$array3"
"$TRIBEV2" batch-status "$WORK/b3" --wait --poll 1 > "$WORK/status3a.txt" 2>&1 || true
cat "$WORK/status3a.txt"
grep -q 'missing items:' "$WORK/status3a.txt" || die "nothing missing after scancel (cancelled too late?)"
missing_shards=$(sed -n 's/.*(shards\(.*\))$/\1/p' "$WORK/status3a.txt" | xargs)
no_partial_entries "$WORK/c"
"$TRIBEV2" batch-status "$WORK/b3" --resume | tee "$WORK/resume3.txt"
resubmitted=$(sed -n 's/^array job [0-9]* ([0-9]* task(s): \([0-9,-]*\).*/\1/p' "$WORK/resume3.txt" | tr ',' ' ')
[ "$(echo "$resubmitted" | xargs)" = "$missing_shards" ] || die "resubmitted shards '$resubmitted' != missing '$missing_shards'"
"$TRIBEV2" batch-status "$WORK/b3" --wait --poll 1 | tee "$WORK/status3b.txt"
grep -q 'items: 5, 5 done' "$WORK/status3b.txt" || die "not all done after --resume"
for x in a b c d; do same_outputs "$WORK/ref/item_$x" "$WORK/b3/item_$x"; done
same_outputs "$WORK/ref/long" "$WORK/b3/item_long"
no_partial_entries "$WORK/c"

# ---- 4. bad manifest row ------------------------------------------------------------------
step "case 4: a bad manifest row"
printf 'id\ttext\nok\tstim/a.txt\nbad\tstim/nope.txt\n' > "$WORK/bad.tsv"
if "$TRIBEV2" batch bad.tsv --out "$WORK/b4" "${MODELS[@]}" --slurm > "$WORK/bad.txt" 2>&1; then
  die "a bad manifest was accepted"
fi
cat "$WORK/bad.txt"
grep -q "manifest bad.tsv, row 3, column 'text': .*nope.txt does not exist" "$WORK/bad.txt" || die "unclear error"
[ ! -e "$WORK/b4/slurm" ] || die "something was submitted for a bad manifest"

step "all Slurm cases passed"
