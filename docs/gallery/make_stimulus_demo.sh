#!/usr/bin/env bash
# Makes the stimulus-strip demo of docs/gallery.md from a real `tribev2 run` output: a 15 s clip
# (ffmpeg's testsrc2 picture + espeak-ng speech), run through the pipeline with the small test
# model (tests/fixtures/brain_model/text64_pipeline widened to fsaverage5's 20,484 outputs, seeded
# random weights) and random features (no real weights: the maps are NOT brain predictions),
# then plotted with upstream's demo recipe. usage: make_stimulus_demo.sh WORK_DIR [MESH_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="${TRIBEV2:-$root/build/src/cli/tribev2}"
W="$1"; MESH="${2:-$root/../shared/data/fsaverage5}"
mkdir -p "$W"; cd "$W"
cat > story.txt <<'TXT'
The old lighthouse keeper climbed the stairs every evening. He lit the great lamp and watched the ships pass
far away on the dark water, and he wondered where they were going.
TXT
# 1. A model with fsaverage5's outputs; the text pipeline's own espeak-ng speech (so the words'
#    timings and the sound agree), then a video with that sound.
/usr/bin/python3 "$root/docs/gallery/widen_model.py" "$root" "$W"
"$T" -q events --text story.txt --out story_events.tsv --cache-dir events_cache
cp "$(awk -F'\t' '$1 == "Audio" {print $7; exit}' story_events.tsv)" speech.wav
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 speech.wav)
ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x360:rate=25" -i speech.wav -t "$dur" -c:v libx264 -pix_fmt yuv420p \
  -c:a aac -shortest clip.mp4
# 2. The words: the text pipeline's espeak-ng timings of the same text (transcript.tsv).
n=$(/usr/bin/python3 -c "import math; print(int(round(2 * $dur)) + 2)")
/usr/bin/python3 -c "
import numpy as np
r = np.random.default_rng(3)
np.save('text.npy', r.standard_normal((2, 64, $n)).astype(np.float32))
np.save('audio.npy', r.standard_normal((2, 12, $n)).astype(np.float32))
np.save('video.npy', r.standard_normal((2, 16, $n)).astype(np.float32))"
"$T" -q run --text story.txt --model model --out text_run --text-features text.npy --audio-features audio.npy
# 3. The video run (transcript from step 2), then upstream's demo figure.
"$T" -q run --video clip.mp4 --transcript text_run/transcript.tsv --model model --out run \
  --text-features text.npy --audio-features audio.npy --video-features video.npy
"$T" plot run --stimuli run --rows 0:15 --view lateral --hemi left --cmap fire --norm-percentile 99 --vmin 0.6 \
  --alpha-cmap 0,0.2 --no-colorbar --dpi 60 --mesh-dir "$MESH" --out stimulus_demo.png
