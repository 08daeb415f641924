"""PlotBrain.plot_timesteps_mp4 with upstream's segments= (word captions) and interpolated_fps=,
drawn by the engine's movie writer as `tribev2 movie` draws them: same frames, frame count and
frame rate as the CLI for the same inputs; bad values raise ValueError."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import tribev2
from conftest import mesh_dir, run_cli
from tribev2 import _tribev2
from tribev2.demo_utils import Segment

# The figure of `tribev2 movie --view lateral --hemi left --dpi 150 --panel-width 2.4` is
# PlotBrain's views="left" at its default size.
CLI_FIGURE = ("--view", "lateral", "--hemi", "left", "--dpi", "150", "--panel-width", "2.4")
STORY = "A short story about a cat. The cat sleeps all day long, and dreams of the sea."


@pytest.fixture(scope="module")
def plotter():
    return tribev2.PlotBrain(mesh="fsaverage5", mesh_dir=mesh_dir(), threads=1)


def maps(n):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 20484)).astype(np.float32)


def probe(path):
    """(frames, frame rate, width, height) of the video stream, counted by ffprobe."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed (scripts/install-deps.sh installs ffmpeg)")
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                        "stream=nb_read_frames,r_frame_rate,width,height", "-of", "json", str(path)],
                       capture_output=True, text=True, check=True)
    s = json.loads(r.stdout)["streams"][0]
    num, den = map(int, s["r_frame_rate"].split("/"))
    return int(s["nb_read_frames"]), num / den, int(s["width"]), int(s["height"])


def frames_of(path):
    """The decoded frames, uint8 [n, H, W, 3]."""
    n, _, w, h = probe(path)
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                       capture_output=True, check=True)
    return np.frombuffer(r.stdout, dtype=np.uint8).reshape(n, h, w, 3)


def assert_same_frames(a, b):
    """Same pictures up to H.264 noise (one letter changed in a caption changes a few hundred
    pixels by more than 24). The drawn frames were always bit-exact; the encoded ones differed
    now and then by a few levels in a few pixels because libx264's AVX-512 MB-tree code read
    uninitialised heap bytes. The movie writer now turns MB-tree off (src/viz/movie.cpp) and
    tests/viz test_cli_viz.cpp checks byte-identical MP4s; this tolerance predates that fix."""
    fa, fb = frames_of(a), frames_of(b)
    assert fa.shape == fb.shape
    for i, (x, y) in enumerate(zip(fa, fb)):
        bad = (np.abs(x.astype(np.int16) - y.astype(np.int16)) > 24).any(axis=-1)
        assert bad.sum() <= 16, f"frame {i}: {int(bad.sum())} pixels differ"


def caption_oracle(seg):
    """upstream's caption (get_text(segment).split(' ')[-8:]) written out independently."""
    a, b = seg.start + seg.offset, seg.stop
    words = seg.events[seg.events.type == "Word"].sort_values("start", kind="stable")
    words = [re.sub(r"[^\w\s]", "", str(w.text).lower()) for w in words.itertuples()
             if 0 <= (w.start - a) / (b - a) <= 1]
    return " ".join(words[-8:])


def test_segments_captions_match_cli_movie(plotter, tmp_path):
    from tribev2._testing import tiny_setup

    setup = tiny_setup(tmp_path / "models")
    text = tmp_path / "story.txt"
    text.write_text(STORY)
    model = tribev2.TribeModel.from_pretrained(**setup, cache_folder=tmp_path / "cache", progress=False)
    preds, segments = model.predict(events=model.get_events_dataframe(text_path=str(text)))
    run_cli("run", "--text", text, "--model", setup["checkpoint_dir"], "--out", tmp_path / "run", "--llama",
            setup["text_model"], "--audio-model", setup["audio_model"], "--no-brain-maps")
    cli_preds = np.load(tmp_path / "run" / "preds.npy")
    assert preds.shape == cli_preds.shape
    # The captions: the last 8 words of each segment, as upstream's get_text.
    from tribev2.plotting import _caption_rows

    captions = _tribev2.movie_captions(_caption_rows(segments, len(preds)))
    assert captions == [caption_oracle(s) for s in segments]
    assert captions[0].startswith("a short story") and all(c == c.lower() and "." not in c for c in captions)

    for fps in (None, 4):
        py = tmp_path / f"py_{fps}.mp4"
        cli = tmp_path / f"cli_{fps}.mp4"
        plotter.plot_timesteps_mp4(preds, py, segments=segments, interpolated_fps=fps)
        extra = () if fps is None else ("--interpolated-fps", fps)
        run_cli("--threads", 1, "movie", tmp_path / "run", "--out", cli, "--mesh-dir", mesh_dir(), *CLI_FIGURE, *extra)
        n, rate, _, _ = probe(py)
        assert probe(py) == probe(cli)
        assert (n, rate) == ((len(preds), 1.0) if fps is None else ((len(preds) - 1) * fps + 1, float(fps)))
        assert_same_frames(py, cli)

    # The captions are drawn: a caption band above the brains, absent without segments.
    plain = tmp_path / "plain.mp4"
    plotter.plot_timesteps_mp4(preds, plain)
    assert probe(plain)[3] < probe(tmp_path / "py_None.mp4")[3]
    plotter.plot_timesteps_mp4(preds, tmp_path / "empty.mp4", segments=[])  # upstream: `if segments:`
    assert probe(tmp_path / "empty.mp4") == probe(plain)
    # Extra segments are ignored (upstream indexes segments[i] for the rows given).
    plotter.plot_timesteps_mp4(preds[:3], tmp_path / "first3.mp4", segments=segments)
    assert probe(tmp_path / "first3.mp4")[0] == 3


def test_interpolated_fps_sets_the_frame_rate(plotter, tmp_path):
    x = maps(3)
    np.save(tmp_path / "preds.npy", x)
    plotter.plot_timesteps_mp4(x, tmp_path / "one.mp4")
    assert probe(tmp_path / "one.mp4")[:2] == (3, 1.0)
    plotter.plot_timesteps_mp4(x, tmp_path / "five.mp4", interpolated_fps=5)
    assert probe(tmp_path / "five.mp4")[:2] == (11, 5.0)  # 5 frames per row between the 3 rows, at 5 fps
    run_cli("--threads", 1, "movie", tmp_path / "preds.npy", "--out", tmp_path / "cli5.mp4", "--mesh-dir", mesh_dir(),
            *CLI_FIGURE, "--interpolated-fps", 5)
    assert probe(tmp_path / "cli5.mp4") == probe(tmp_path / "five.mp4")
    assert_same_frames(tmp_path / "five.mp4", tmp_path / "cli5.mp4")
    # As the CLI: a whole number of frames per row (2.6 -> 3), numpy numbers accepted.
    plotter.plot_timesteps_mp4(x, tmp_path / "three.mp4", interpolated_fps=np.float32(2.6))
    assert probe(tmp_path / "three.mp4")[:2] == (7, 3.0)


def test_bad_movie_arguments_raise(plotter, tmp_path):
    x = maps(2)
    out = tmp_path / "bad.mp4"
    for bad in (0, 0.4, 121, -3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"interpolated_fps must be in \[1, 120\]"):
            plotter.plot_timesteps_mp4(x, out, interpolated_fps=bad)
    for bad in ("fast", True, [10]):
        with pytest.raises(ValueError, match="interpolated_fps must be a number"):
            plotter.plot_timesteps_mp4(x, out, interpolated_fps=bad)
    pd = pytest.importorskip("pandas")
    words = pd.DataFrame({"type": ["Word"], "start": [0.2], "duration": [0.1], "text": ["Hello"]})
    seg = Segment(start=0.0, duration=1.0, offset=0.0, events=words)
    with pytest.raises(ValueError, match="1 segments for 2 rows"):
        plotter.plot_timesteps_mp4(x, out, segments=[seg])
    with pytest.raises(ValueError, match=r"segments\[1\]: expected a segment"):
        plotter.plot_timesteps_mp4(x, out, segments=[seg, "not a segment"])
    with pytest.raises(ValueError, match=r"segments\[1\]: expected a window start < stop"):
        plotter.plot_timesteps_mp4(x, out, segments=[seg, Segment(start=1.0, duration=0.0, offset=0.0)])
    nan_word = pd.DataFrame({"type": ["Word"], "start": [float("nan")], "duration": [0.1], "text": ["Hi"]})
    with pytest.raises(ValueError, match=r"segments\[1\]: Word event 'Hi' has no finite start"):
        plotter.plot_timesteps_mp4(x, out, segments=[seg, Segment(start=1.0, duration=1.0, offset=0.0, events=nan_word)])
    with pytest.raises(ValueError, match="rows"):
        plotter.plot_timesteps_mp4(x[0], out)
    assert not out.exists()
    # A segment without Word events: an empty caption (upstream's get_text of a silent segment).
    silent = Segment(start=1.0, duration=1.0, offset=0.0, events=pd.DataFrame({"type": [], "start": []}))
    assert _tribev2.movie_captions([(0.0, 1.0, [(0.2, 0.1, "Hello,")]), (1.0, 2.0, [])]) == ["hello", ""]
    plotter.plot_timesteps_mp4(x, out, segments=[seg, silent])
    assert probe(out)[0] == 2
