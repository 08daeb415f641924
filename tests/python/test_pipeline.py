"""TribeModel on the tiny fixture models: events DataFrame vs `tribev2 events`, predict vs
`tribev2 run` on the same text, segments, errors, concurrent predictions, Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import tribev2
from tribev2._testing import tiny_setup
from conftest import FIXTURES, run_cli

TEXT = "A short story about a cat. The cat sleeps all day long, and dreams of the sea."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    setup = tiny_setup(d)
    (d / "story.txt").write_text(TEXT)
    model = tribev2.TribeModel.from_pretrained(**setup, cache_folder=d / "cache", progress=False)
    return d, setup, model


def test_events_dataframe_matches_cli(tiny):
    d, _, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    for col in ("type", "start", "duration", "filepath", "text", "context", "sentence", "timeline", "subject"):
        assert col in df.columns
    assert set(df["type"]) >= {"Audio", "Word"}
    run_cli("events", "--text", d / "story.txt", "--out", d / "events.tsv", "--cache-dir", d / "cache")
    cli = pd.read_csv(d / "events.tsv", sep="\t")
    pd.testing.assert_frame_equal(df[cli.columns], cli)
    assert (df["timeline"] == "default").all() and (df["subject"] == "default").all()


def test_predict_matches_cli_run(tiny):
    d, setup, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    preds, segments = model.predict(events=df)
    # The CLI on the same input with its own cache: nothing shared with the Python run.
    run_cli("run", "--text", d / "story.txt", "--model", setup["checkpoint_dir"], "--out", d / "cli",
            "--cache-dir", d / "cli-cache", "--llama", setup["text_model"], "--audio-model", setup["audio_model"],
            "--no-brain-maps")
    cli = np.load(d / "cli" / "preds.npy")
    assert preds.dtype == np.float32 and preds.shape == cli.shape and preds.shape[1] == 20484
    assert np.abs(preds - cli).max() <= 1e-6 * np.abs(cli).max()
    assert preds.flags.owndata or preds.base is None or preds.flags.c_contiguous
    assert len(segments) == len(preds)
    s0 = segments[0]
    assert s0.duration == pytest.approx(1.0) and s0.offset == pytest.approx(0.0, abs=1e-5)
    assert isinstance(s0.events, pd.DataFrame) and len(s0.events) > 0
    assert segments[1].offset == pytest.approx(1.0, abs=1e-5)
    assert not (d / "cache" / "python-runs").exists() or not any((d / "cache" / "python-runs").iterdir())


def test_predict_from_any_events_dataframe(tiny):
    """A DataFrame with upstream's columns, built by hand or edited, is predicted from as it is."""
    d, _, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    ref, ref_segments = model.predict(events=df)
    # The same events rebuilt by hand from plain columns (no attrs): the same predictions.
    cols = ["type", "start", "duration", "filepath", "offset", "frequency", "text", "context", "sentence"]
    by_hand = pd.DataFrame({c: list(df[c]) for c in cols})
    assert not by_hand.attrs
    preds, segments = model.predict(events=by_hand)
    assert preds.shape == ref.shape
    assert np.abs(preds - ref).max() <= 1e-6 * np.abs(ref).max()
    assert [s.start + s.offset for s in segments] == pytest.approx([s.start + s.offset for s in ref_segments])
    # Edited: the words moved 3 s later -> a longer timeline, other predictions.
    edited = df.copy()
    words = edited["type"] == "Word"
    edited.loc[words, "start"] += 3.0
    moved, moved_segments = model.predict(events=edited)
    assert moved.shape[1] == 20484
    assert moved_segments[-1].stop > ref_segments[-1].stop
    # Only the audio (no words): text is missing, as upstream when a stimulus has no words.
    audio_only = df[df["type"] == "Audio"][["type", "start", "duration", "filepath", "offset"]]
    p3, _ = model.predict(events=audio_only)
    assert p3.shape[1] == 20484 and not np.array_equal(p3[:len(ref)], ref[:len(p3)])


def test_two_threads_predict_concurrently(tiny):
    d, _, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    ref, _ = model.predict(events=df)
    out, errors = [None, None], []

    def work(i):
        try:
            out[i] = model.predict(events=df)[0]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for o in out:
        np.testing.assert_array_equal(o, ref)


def test_bad_inputs_raise_clear_errors(tiny, tmp_path):
    d, setup, model = tiny
    with pytest.raises((ValueError, FileNotFoundError), match="facebook/tribev2"):  # offline, empty cache
        tribev2.TribeModel.from_pretrained("facebook/tribev2", cache_folder=tmp_path, hub_cache=tmp_path / "hf",
                                           offline=True)
    with pytest.raises(FileNotFoundError):
        tribev2.TribeModel.from_pretrained(str(tmp_path / "nope"), cache_folder=tmp_path)
    with pytest.raises(ValueError, match="device"):
        tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], device="cuda", cache_folder=tmp_path)
    with pytest.raises(NotImplementedError, match="cluster"):
        tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], cluster="slurm", cache_folder=tmp_path)
    with pytest.raises(ValueError, match="Exactly one"):
        model.get_events_dataframe()
    with pytest.raises(ValueError, match="must end with"):
        model.get_events_dataframe(text_path=str(d / "story.md"))
    with pytest.raises(FileNotFoundError):
        model.get_events_dataframe(audio_path=str(tmp_path / "missing.wav"))
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match="empty"):
        model.get_events_dataframe(text_path=str(tmp_path / "empty.txt"))
    with pytest.raises(TypeError):
        model.predict(events=[1, 2])
    with pytest.raises(ValueError, match="missing column 'duration'"):
        model.predict(events=pd.DataFrame({"type": ["Word"], "start": [0.0]}))
    with pytest.raises(ValueError, match="missing column 'context'"):
        model.predict(events=pd.DataFrame({"type": ["Word"], "start": [0.0], "duration": [1.0], "text": ["a"]}))
    with pytest.raises(ValueError, match="missing column 'filepath'"):
        model.predict(events=pd.DataFrame({"type": ["Audio"], "start": [0.0], "duration": [1.0]}))
    with pytest.raises(ValueError, match="unknown event type"):
        model.predict(events=pd.DataFrame({"type": ["Smell"], "start": [0.0], "duration": [1.0]}))
    with pytest.raises(ValueError, match="does not exist"):
        model.predict(events=pd.DataFrame({"type": ["Audio"], "start": [0.0], "duration": [1.0],
                                           "filepath": [str(tmp_path / "gone.wav")]}))
    with pytest.raises(TypeError, match="unknown events option"):
        tribev2.TribeModel.from_pretrained(setup["checkpoint_dir"], cache_folder=tmp_path,
                                           colour="blue").get_events_dataframe(text_path=str(d / "story.txt"))


def test_extractors_return_numpy(tiny):
    d, setup, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    t = tribev2.text_features(setup["text_model"], df)
    assert t.dtype == np.float32 and t.shape[0] == (df["type"] == "Word").sum() and t.shape[1:] == (2, 64)
    a = tribev2.audio_features(setup["audio_model"], df)
    assert len(a) == (df["type"] == "Audio").sum() and a[0].shape[:2] == (2, 32)


CHILD = r"""
import sys, numpy as np, tribev2
m = tribev2.BrainModel.load(sys.argv[1])
feats = {"text": np.random.default_rng(0).standard_normal((2, 64, 200000)).astype(np.float32)}
print("started", flush=True)
m.predict_features(feats, threads=1)
print("finished", flush=True)
"""


def test_ctrl_c_raises_keyboard_interrupt():
    env = dict(os.environ)
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(FIXTURES / "brain_model" / "text64_pipeline")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "started"
    time.sleep(0.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert "KeyboardInterrupt" in err, err
    assert "finished" not in out
    assert time.monotonic() - t0 < 30


def test_predict_overlap_reaches_the_engine(tiny):
    """TribeModel's overlap_trs (from_pretrained or per call) goes to the engine's predict: an
    input shorter than one segment is unaffected, K >= the segment length is the engine's error,
    and values that are not whole numbers of TRs are refused before anything runs."""
    d, setup, model = tiny
    df = model.get_events_dataframe(text_path=str(d / "story.txt"))
    plain, _ = model.predict(events=df)
    short, _ = model.predict(events=df, overlap_trs=3)
    np.testing.assert_array_equal(short, plain)
    n = model.data.get("duration_trs")
    with pytest.raises(Exception, match="overlap"):
        model.predict(events=df, overlap_trs=int(n) if n else 10_000)
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="overlap_trs"):
            model.predict(events=df, overlap_trs=bad)
