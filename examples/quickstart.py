#!/usr/bin/env python3
"""Upstream's TRIBE v2 quick start (the demo notebook of facebookresearch/tribev2), cell by
cell, on the tribev2-cpp engine: only the import differs.

Real models:   PYTHONPATH=build/python /usr/bin/python3 examples/quickstart.py \
                   --model /path/to/tribev2 --video clip.mp4 --text-model ... --audio-model ... --video-model ...
Offline (the tiny test models of tests/fixtures, random brain weights, a short text):
               PYTHONPATH=build/python /usr/bin/python3 examples/quickstart.py --tiny
               (or TRIBEV2_QUICKSTART_TINY=1). --out DIR also saves preds.npy and the figure.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", default=os.environ.get("TRIBEV2_QUICKSTART_TINY") == "1",
                    help="offline: tiny fixture models and a short text (env TRIBEV2_QUICKSTART_TINY=1)")
    ap.add_argument("--model", default="facebook/tribev2", help="model folder (Hub ids need the Hub client)")
    ap.add_argument("--video", help="video stimulus (upstream's example uses a video)")
    ap.add_argument("--audio", help="audio stimulus")
    ap.add_argument("--text", help="text stimulus (.txt)")
    ap.add_argument("--text-model", help="Llama-3.2-3B folder")
    ap.add_argument("--audio-model", help="w2v-bert-2.0 folder")
    ap.add_argument("--video-model", help="V-JEPA2 folder")
    ap.add_argument("--cache", default="./cache", help="cache folder")
    ap.add_argument("--mesh-dir", help="fsaverage5 meshes (default: $TRIBEV2_MESH_DIR or `tribev2 fetch-mesh`'s)")
    ap.add_argument("--out", help="folder for preds.npy and timesteps.png")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tribev2-quickstart-"))

    # --- Cell 1: load the model --------------------------------------------------------------
    from tribev2 import TribeModel

    if args.tiny:
        from tribev2._testing import tiny_setup

        pretrained = tiny_setup(work)
        cache = work / "cache"
        text_path = work / "story.txt"
        text_path.write_text("A short story about a cat. The cat sleeps all day long, and dreams of the sea.")
        stimulus = {"text_path": str(text_path)}
    else:
        pretrained = {"checkpoint_dir": args.model, "text_model": args.text_model, "audio_model": args.audio_model,
                      "video_model": args.video_model}
        cache = args.cache
        stimulus = {k: v for k, v in (("video_path", args.video), ("audio_path", args.audio),
                                      ("text_path", args.text)) if v}
    model = TribeModel.from_pretrained(**pretrained, cache_folder=cache)

    # --- Cell 2: events of the stimulus (words with timings, sentences, contexts, chunks) ---------
    df = model.get_events_dataframe(**stimulus)
    print(df.head())

    # --- Cell 3: predict ---------------------------------------------------------------------
    preds, segments = model.predict(events=df)
    print(preds.shape)  # (n_timesteps, 20484)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        np.save(Path(args.out) / "preds.npy", preds)

    # --- Cell 4: plot the first time steps ---------------------------------------------------
    from tribev2.plotting import PlotBrain

    plotter = PlotBrain(mesh="fsaverage5", mesh_dir=args.mesh_dir)
    n = min(15, len(preds))
    try:  # upstream's call
        fig = plotter.plot_timesteps(preds[:n], segments=segments[:n], cmap="fire", norm_percentile=99, vmin=0.6,
                                     alpha_cmap=(0, 0.2), show_stimuli=True)
    except NotImplementedError as e:  # options this version of the engine does not have yet
        print(f"note: {e}; plotting without them", file=sys.stderr)
        fig = plotter.plot_timesteps(preds[:n], segments=segments[:n], cmap="hot")
    if args.out:
        if isinstance(fig, np.ndarray):
            print("matplotlib not installed: plot_timesteps returned an RGBA array", fig.shape)
        else:
            fig.savefig(Path(args.out) / "timesteps.png")
    print("done")


if __name__ == "__main__":
    main()
