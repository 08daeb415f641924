#!/usr/bin/env python3
"""Upstream's TRIBE v2 quick start (the demo notebook of facebookresearch/tribev2), cell by
cell, on the tribev2-cpp engine: only the import differs.

Real models (downloaded once into the Hugging Face cache by the engine's Hub client, as
upstream's from_pretrained does; the extractors default to upstream's Llama-3.2-3B,
w2v-bert-2.0 and V-JEPA2 ids):
               PYTHONPATH=build/python /usr/bin/python3 examples/quickstart.py --video clip.mp4
Offline (the tiny test models of tests/fixtures, random brain weights, a short text, and a
synthetic HCP-shaped atlas for the ROI cell when no atlas is installed):
               PYTHONPATH=build/python /usr/bin/python3 examples/quickstart.py --tiny
               (or TRIBEV2_QUICKSTART_TINY=1). --out DIR also saves preds.npy, the figure and roi.tsv.
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np


def synthetic_atlas(folder):
    """An HCP-MMP1-shaped annotation pair on fsaverage5 (random areas; --tiny only, when the
    real atlas is not installed: `tribev2 fetch-atlas hcp-mmp1`)."""
    import nibabel.freesurfer as fs

    rng = np.random.default_rng(0)
    areas = "V1 V2 V3 V4 MT MST FFC A1 LBelt MBelt PBelt 44 45 TPOJ1 STSdp STSva PGi 7PC 4 3b".split()
    for side, h in (("lh", "L"), ("rh", "R")):
        names = [b"???"] + [f"{h}_{a}_ROI".encode() for a in areas]
        ctab = np.column_stack([np.arange(len(names)) * 9 + 1, np.arange(len(names)) * 3, np.full(len(names), 7),
                                np.zeros(len(names), int)]).astype(np.int32)
        labels = rng.integers(0, len(names), size=10242).astype(np.int32)
        fs.write_annot(str(Path(folder) / f"{side}.HCPMMP1.annot"), labels, ctab, names, fill_ctab=True)
    return folder


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", default=os.environ.get("TRIBEV2_QUICKSTART_TINY") == "1",
                    help="offline: tiny fixture models and a short text (env TRIBEV2_QUICKSTART_TINY=1)")
    ap.add_argument("--model", default="facebook/tribev2", help="model folder or Hub id (default: upstream's)")
    ap.add_argument("--video", help="video stimulus (upstream's example uses a video)")
    ap.add_argument("--audio", help="audio stimulus")
    ap.add_argument("--text", help="text stimulus (.txt)")
    ap.add_argument("--text-model", help="Llama-3.2-3B folder or Hub id (default: meta-llama/Llama-3.2-3B)")
    ap.add_argument("--audio-model", help="w2v-bert-2.0 folder or Hub id (default: facebook/w2v-bert-2.0)")
    ap.add_argument("--video-model", help="V-JEPA2 folder or Hub id (default: facebook/vjepa2-vitg-fpc64-256)")
    ap.add_argument("--cache", default="./cache", help="cache folder")
    ap.add_argument("--mesh-dir", help="fsaverage5 meshes and atlases (default: $TRIBEV2_MESH_DIR or fetch-mesh's)")
    ap.add_argument("--out", help="folder for preds.npy, timesteps.png and roi.tsv")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tribev2-quickstart-"))

    # --- Cell 1: load the model -----------------------------------------------------------------
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

    # --- Cell 2: events of the stimulus (words with timings, sentences, contexts, chunks) -------
    df = model.get_events_dataframe(**stimulus)
    print(df.head())

    # --- Cell 3: predict --------------------------------------------------------------------------
    preds, segments = model.predict(events=df)
    print(preds.shape)  # (n_timesteps, 20484)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "preds.npy", preds)

    # --- Cell 4: plot the first time steps with the stimulus above them (upstream's call) --------
    from tribev2.plotting import PlotBrain

    plotter = PlotBrain(mesh="fsaverage5", mesh_dir=args.mesh_dir)
    fig = plotter.plot_timesteps(preds[:15], segments=segments[:15], cmap="fire", norm_percentile=99, vmin=0.6,
                                 alpha_cmap=(0, 0.2), show_stimuli=True)
    if out:
        if isinstance(fig, np.ndarray):
            print("matplotlib not installed: plot_timesteps returned an RGBA array", fig.shape)
        else:
            fig.savefig(out / "timesteps.png")

    # --- Cell 5: which areas? (upstream's tribev2.utils ROI helpers on HCP-MMP1) ------------------
    from tribev2.utils import get_topk_rois, summarize_by_roi

    atlas_dir = args.mesh_dir
    if args.tiny:
        from tribev2 import _tribev2

        try:
            _tribev2.Atlas.load("hcp-mmp1", atlas_dir or "")
        except (ValueError, FileNotFoundError):
            atlas_dir = str(synthetic_atlas(work))  # real atlas: `tribev2 fetch-atlas hcp-mmp1`
    mean_map = preds.mean(axis=0)
    print("top-10 ROIs of the mean map:", get_topk_rois(mean_map, hemi="both", k=10, data_dir=atlas_dir))
    per_tr = summarize_by_roi(preds, hemi="both", data_dir=atlas_dir)  # one row per TR
    print("ROI time series:", per_tr.shape)
    if out:
        from tribev2.utils import get_roi_names

        names = get_roi_names(hemi="both", data_dir=atlas_dir)
        np.savetxt(out / "roi.tsv", per_tr, delimiter="\t", header="\t".join(names), comments="")
    print("done")


if __name__ == "__main__":
    main()
