#!/usr/bin/env bash
# Makes the real-clip stimulus demo of docs/gallery.md: upstream's demo recipe on a 20 s clip of
# real footage with real speech, from a real `tribev2 run` output. The media are not in this
# repository; docs/gallery.md says where each comes from and under which licence:
#   SINTEL, TEARS: 10 s excerpts of Blender's Sintel and Tears of Steel (CC-BY 3.0), 640 x 360,
#                  24 fps, no sound (awwkl/ZWM data/demo_videos/clip_03_sintel.mp4,
#                  clip_01_tears_of_steel.mp4)
#   SPEECH, WORDS: NASA Apollo 11 air-to-ground audio (public domain) and its Whisper-large word
#                  timings (linto-ai/whisper-timestamped tests/data/apollo11.mp3,
#                  tests/expected/corner_cases/large_apollo11.mp3.words.json)
# The two pictures are joined, the first 20 s of the speech laid under them, the words of those
# 20 s passed as the transcript. The brain model is the small test model widened to 20,484
# outputs with seeded random weights and the features are random: the maps show the figure,
# NOT brain activity.
# usage: [ATLAS=LH.annot,RH.annot] make_real_clip_demo.sh SINTEL TEARS SPEECH WORDS WORK_DIR [MESH_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="${TRIBEV2:-$root/build/src/cli/tribev2}"
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
SINTEL="$(abs "$1")"; TEARS="$(abs "$2")"; SPEECH="$(abs "$3")"; WORDS="$(abs "$4")"; W="$5"
MESH="${6:-$root/../shared/data/fsaverage5}"
mkdir -p "$W"; MESH="$(cd "$MESH" && pwd)"; cd "$W"
dur=20
# 1. The clip: both pictures one after the other, the speech's first 20 s as its sound (AAC).
ffmpeg -v error -y -i "$SINTEL" -i "$TEARS" -i "$SPEECH" \
  -filter_complex "[0:v][1:v]concat=n=2:v=1:a=0[v]" -map "[v]" -map 2:a -t "$dur" \
  -c:v libx264 -pix_fmt yuv420p -c:a aac -ar 48000 clip.mp4
# 2. The transcript: the words that start within the 20 s, as a JSON word list (text, start,
#    end, sequence_id = Whisper's segment, sentence = its text).
/usr/bin/python3 - "$WORDS" "$dur" <<'PY'
import json, sys
src, dur = json.load(open(sys.argv[1])), float(sys.argv[2])
words = []
for i, seg in enumerate(src["segments"]):
    for w in seg["words"]:
        if w["start"] < dur:
            words.append({"text": w["text"].strip(), "start": w["start"], "end": min(w["end"], dur),
                          "sequence_id": i, "sentence": seg["text"].strip()})
json.dump({"words": words}, open("words.json", "w"), indent=1)
print(f"{len(words)} words in the first {dur:g} s")
PY
# 3. The model (fsaverage5 outputs, random weights) and random features for the 20 s.
/usr/bin/python3 "$root/docs/gallery/widen_model.py" "$root" "$W"
/usr/bin/python3 -c "
import numpy as np
r = np.random.default_rng(3)
n = 2 * $dur + 2
np.save('text.npy', r.standard_normal((2, 64, n)).astype(np.float32))
np.save('audio.npy', r.standard_normal((2, 12, n)).astype(np.float32))
np.save('video.npy', r.standard_normal((2, 16, n)).astype(np.float32))"
# 4. The run, then upstream's recipe: plot_timesteps(preds[:15], segments=segments[:15], cmap="fire",
#    norm_percentile=99, vmin=.6, alpha_cmap=(0, .2), show_stimuli=True).
"$T" -q run --video clip.mp4 --transcript words.json --model model --out run \
  --text-features text.npy --audio-features audio.npy --video-features video.npy
"$T" plot run --stimuli run --rows 0:15 --view lateral --hemi left --cmap fire --norm-percentile 99 --vmin 0.6 \
  --alpha-cmap 0,0.2 --no-colorbar --dpi 60 --mesh-dir "$MESH" --out real_clip_demo.png
# 5. The browser viewer of the same run, played to 11.5 s in headless Chromium; with ATLAS=LH,RH
#    (an annotation pair, e.g. the HCP-MMP1 copy of docs/gallery.md) a click on left vertex 270
#    names its region (A1 in HCP-MMP1).
"$T" -q view run --out viewer/viewer.html --mesh-dir "$MESH" --cmap fire --norm-percentile 99 --vmin 0.6 \
  --alpha-cmap 0,0.2 ${ATLAS:+--atlas "$ATLAS"}
/usr/bin/python3 "$root/docs/gallery/shoot_viewer.py" viewer/viewer.html real_clip_viewer.png 11.5 ${ATLAS:+270}
