"""TribeModel: upstream's inference API (tribev2/demo_utils.py) on the native engine.

``from_pretrained`` -> ``get_events_dataframe`` -> ``predict`` have upstream's names,
arguments and return types. The work is done by the C++ pipeline (``tribev2 run``): events
from the stimulus, the three feature extractors, segmentation and the brain model, every
stage cached under ``cache_folder``. Differences from upstream are listed in docs/python.md.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import numpy as np

from . import _tribev2
from ._errors import NotSupportedYet

VALID_SUFFIXES: dict[str, set[str]] = {
    "text_path": {".txt"},
    "audio_path": {".wav", ".mp3", ".flac", ".ogg"},
    "video_path": {".mp4", ".avi", ".mkv", ".mov", ".webm"},
}

def _pandas():
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - Debian: python3-pandas
        raise ImportError("tribev2's events API needs pandas (Debian: python3-pandas)") from e
    return pd


def _events_frame(tsv: str):
    """An events.tsv text as the DataFrame upstream's get_events_dataframe returns (columns
    type, start, duration, filepath, text, context, sentence, ... plus timeline/subject)."""
    pd = _pandas()
    df = pd.read_csv(io.StringIO(tsv), sep="\t", float_precision="round_trip")
    for col in ("timeline", "subject"):
        if col not in df.columns:
            df[col] = "default"
    return df


@dataclasses.dataclass
class Segment:
    """One predicted row, as upstream's segments: the window ``[start + offset,
    start + offset + duration)`` seconds, where ``start`` is the start of the model's
    segment (``data.duration_trs`` TRs) and ``offset`` the row's position in it; ``events``
    are the events overlapping the window."""

    start: float
    duration: float
    offset: float
    events: object = dataclasses.field(repr=False, default=None)

    @property
    def ns_events(self):
        return self.events

    @property
    def stop(self) -> float:
        return self.start + self.offset + self.duration


def _hub_options(hub_cache=None, hub_token=None, hub_endpoint=None, offline=None) -> dict:
    """The Hub client's options; unset ones come from HF_HUB_CACHE / HF_HOME, HF_TOKEN,
    HF_ENDPOINT and HF_HUB_OFFLINE, as huggingface_hub reads them."""
    o = {}
    for k, v in (("cache_dir", hub_cache), ("token", hub_token), ("endpoint", hub_endpoint), ("offline", offline)):
        if v is not None:
            o[k] = bool(v) if k == "offline" else str(v)
    return o


def resolve_model(path_or_repo_id, role: str, hub: dict | None = None, progress: bool = False,
                  extra_files=()) -> str:
    """The engine's model resolver (``tribev2::hub::resolve_model``, as every CLI model option):
    an existing local path unchanged, else an ``org/name[@revision]`` Hub id resolved through the
    Hugging Face cache (shared with huggingface_hub), downloading only what the ``role``'s loader
    reads (``brain``, ``text``, ``audio``, ``video``)."""
    return _tribev2.resolve_model(str(path_or_repo_id), role, list(extra_files), hub or {}, progress)


def _resolve_checkpoint(checkpoint_dir, checkpoint_name: str, hub: dict, progress: bool) -> str:
    """A local model folder or weights file, or a Hub id (upstream: hf_hub_download of
    config.yaml and the checkpoint) resolved by the engine's Hub client."""
    path = Path(checkpoint_dir)
    if not path.exists():
        text = str(checkpoint_dir)
        if not (_tribev2.looks_like_repo_id(text) and "/" in text and not text.startswith((".", "/", "~"))):
            raise FileNotFoundError(f"checkpoint_dir does not exist: {checkpoint_dir}")
        extra = [] if checkpoint_name == "best.ckpt" else [checkpoint_name]
        path = Path(resolve_model(text, "brain", hub, progress, extra))
    if path.is_dir():
        named = path / checkpoint_name
        if checkpoint_name != "best.ckpt":
            if not named.is_file():
                raise FileNotFoundError(f"{named} does not exist")
            return str(named)
        return str(path)  # model.safetensors if present (same weights, mapped), else best.ckpt
    return str(path)


class TribeModel:
    """Brain-response prediction from a video, an audio file or a text (upstream TribeModel).

    Typical usage::

        model = TribeModel.from_pretrained("path/to/tribev2")
        events = model.get_events_dataframe(video_path="clip.mp4")
        preds, segments = model.predict(events)
    """

    cache_folder: str = "./cache"
    remove_empty_segments: bool = True

    def __init__(self, *, checkpoint: str, cache_folder, extractors: dict, precision: str, threads: int,
                 progress: bool, subject_mode: str, batch_size: int, events_options: dict, overlap_trs: int = 0):
        self.checkpoint = checkpoint
        self.cache_folder = str(cache_folder)
        self.extractors = dict(extractors)
        self.precision = precision
        self.threads = threads
        self.progress = progress
        self.subject_mode = subject_mode
        self.batch_size = batch_size
        self.overlap_trs = overlap_trs
        self.events_options = dict(events_options)
        self.hub: dict = {}
        self._model = _tribev2.BrainModel.load(checkpoint, subject_mode=subject_mode)

    @property
    def brain_model(self) -> _tribev2.BrainModel:
        """The loaded brain model (lower-level forward / predict_features)."""
        return self._model

    @property
    def data(self) -> dict:
        return self._model.data

    @classmethod
    def from_pretrained(
        cls,
        checkpoint_dir,
        checkpoint_name: str = "best.ckpt",
        cache_folder=None,
        cluster=None,
        device: str = "auto",
        config_update: dict | None = None,
        *,
        text_model=None,
        audio_model=None,
        video_model=None,
        precision: str = "f32",
        threads: int = 0,
        progress: bool = True,
        subject_mode: str = "auto",
        batch_size: int = 8,
        overlap_trs: int = 0,
        hub_cache=None,
        hub_token=None,
        hub_endpoint=None,
        offline=None,
        **events_options,
    ) -> "TribeModel":
        """Loads a model folder (config.yaml + best.ckpt or model.safetensors) or weights file.

        Upstream's arguments: ``checkpoint_dir`` (a local folder or file, or a Hugging Face
        repo id such as ``"facebook/tribev2"`` or ``"org/name@revision"``, downloaded once into
        the Hugging Face cache by the engine's Hub client), ``checkpoint_name``,
        ``cache_folder`` (stage cache, default ``./cache``), ``device`` (``"auto"``/``"cpu"``:
        the engine runs on the CPU). ``cluster`` and ``config_update`` are not supported and
        raise when given.

        Engine options: ``text_model`` / ``audio_model`` / ``video_model`` (folders or Hub ids;
        default upstream's ``meta-llama/Llama-3.2-3B``, ``facebook/w2v-bert-2.0``,
        ``facebook/vjepa2-vitg-fpc64-256``, resolved only when a stage needs them),
        ``hub_cache`` / ``hub_token`` / ``hub_endpoint`` / ``offline`` (else HF_HUB_CACHE or
        HF_HOME, HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE), ``precision`` (``"f32"`` or ``"bf16"``),
        ``threads`` (0: all cores or ``TRIBEV2_NUM_THREADS``), ``progress``,
        ``subject_mode``, ``batch_size``, ``overlap_trs`` (upstream's data option
        ``overlap_trs``: segments every ``duration_trs - K`` TRs, each later segment giving its
        rows after the first K, as ``predict --overlap-trs``; 0 = back to back); any other keyword is an events option of
        ``tribev2 events`` (``language``, ``voice``, ``speech_rate``, ``reference_quirks``,
        ``sentences``, ``text_case``, ``asr``, ``asr_model``, ``compute_type``, ...).
        """
        if cluster is not None:
            raise NotSupportedYet("cluster: the engine runs in this process; pass cluster=None")
        if device not in ("auto", "cpu"):
            raise ValueError(f"device must be 'auto' or 'cpu' (the engine runs on the CPU), got {device!r}")
        if config_update:
            raise NotSupportedYet("config_update: overriding config.yaml entries is not supported; edit config.yaml")
        if precision not in ("f32", "bf16"):
            raise ValueError(f"precision must be 'f32' or 'bf16', got {precision!r}")
        hub = _hub_options(hub_cache, hub_token, hub_endpoint, offline)
        checkpoint = _resolve_checkpoint(checkpoint_dir, checkpoint_name, hub, progress)
        cache = Path(cache_folder) if cache_folder is not None else Path("./cache")
        cache.mkdir(parents=True, exist_ok=True)
        defaults = _tribev2.DEFAULT_MODELS
        extractors = {k: str(v if v is not None else defaults[k])
                      for k, v in (("text", text_model), ("audio", audio_model), ("video", video_model))}
        model = cls(checkpoint=checkpoint, cache_folder=cache, extractors=extractors, precision=precision,
                    threads=threads, progress=progress, subject_mode=subject_mode, batch_size=batch_size,
                    events_options=events_options, overlap_trs=_overlap_trs(overlap_trs))
        model.hub = hub
        return model

    def get_events_dataframe(self, text_path=None, audio_path=None, video_path=None, *, transcript_path=None):
        """Events of exactly one stimulus, as upstream: a DataFrame with columns ``type``,
        ``start``, ``duration``, ``filepath``, ``text``, ``context``, ``sentence``, ...

        A text is spoken with espeak-ng (upstream: gTTS) and its words timed by the synthesiser;
        audio and video are transcribed with whisperX, or read from ``transcript_path``.
        """
        provided = {n: v for n, v in (("text_path", text_path), ("audio_path", audio_path),
                                      ("video_path", video_path)) if v is not None}
        if len(provided) != 1:
            raise ValueError("Exactly one of text_path, audio_path, video_path must be provided, "
                             f"got: {list(provided.keys()) or 'none'}")
        name, value = next(iter(provided.items()))
        path = Path(value)
        suffix = path.suffix.lower()
        if suffix not in VALID_SUFFIXES[name]:
            raise ValueError(f"{name} must end with one of {sorted(VALID_SUFFIXES[name])}, got '{suffix}'")
        if not path.is_file():
            raise FileNotFoundError(f"{name} does not exist: {path}")
        if name == "text_path" and not path.read_text(encoding="utf-8").strip():
            raise ValueError(f"Text file is empty: {path}")
        options = dict(self.events_options)
        if transcript_path is not None:
            if not Path(transcript_path).is_file():
                raise FileNotFoundError(f"transcript_path does not exist: {transcript_path}")
            options["transcript"] = str(transcript_path)
        built = _tribev2.build_events(cache_dir=self.cache_folder, options=options, progress=self.progress,
                                      **{name: str(path)})
        df = _events_frame(built["tsv"])
        df.attrs["tribev2"] = {"stimulus": {name: built["path"]}, "options": options, "tsv": built["tsv"]}
        return df

    def predict(self, events, verbose: bool = True, *, overlap_trs=None):
        """Per-TR predictions for an events DataFrame.

        ``events``: the DataFrame of :meth:`get_events_dataframe`, or any DataFrame with
        upstream's columns (built or edited by hand): ``type``, ``start``, ``duration``, plus
        ``filepath`` for Audio/Video rows (``offset``, ``frequency`` optional) and ``text`` and
        ``context`` for Word rows (the context is what the text model reads; rows without one
        are dropped, as upstream's RemoveMissing). Returns ``(preds, segments)``: float32
        ``[n_rows, n_vertices]`` and one :class:`Segment` per row (``start``, ``duration`` =
        1 TR, ``offset``, ``events``). With ``remove_empty_segments`` (default, as upstream)
        rows without any event are dropped. ``overlap_trs`` overrides the model's (see
        :meth:`from_pretrained`) for this call.
        """
        pd = _pandas()
        if not isinstance(events, pd.DataFrame):
            raise TypeError(f"events must be a pandas DataFrame, got {type(events).__name__}")
        common = dict(model=self.checkpoint, cache_dir=self.cache_folder, extractors=self.extractors,
                      batch_size=self.batch_size, subject_mode=self.subject_mode, threads=self.threads,
                      overlap_trs=_overlap_trs(self.overlap_trs if overlap_trs is None else overlap_trs),
                      precision=self.precision, progress=self.progress and verbose, hub=self.hub)
        meta = events.attrs.get("tribev2")
        if meta is not None and events.equals(_events_frame(meta["tsv"])):
            # As returned by get_events_dataframe: the whole `tribev2 run` from the stimulus file.
            out = _tribev2.run(options=meta["options"], **common, **meta["stimulus"])
            if out["events.tsv"] != meta["tsv"]:
                raise RuntimeError("the stimulus changed since get_events_dataframe (its events differ); "
                                   "call get_events_dataframe again")
        else:
            out = _tribev2.run(options=dict(self.events_options), events=_events_payload(events), **common)
        preds = out["preds"]
        info = json.loads(out["segments.json"])
        segments = _segments(info, events)
        if len(segments) != preds.shape[0]:
            raise ValueError(f"Number of samples: {preds.shape[0]} != {len(segments)}")
        if self.remove_empty_segments:
            keep = np.array([len(s.events) > 0 for s in segments], dtype=bool)
            preds = np.ascontiguousarray(preds[keep])
            segments = [s for s, k in zip(segments, keep) if k]
        return preds, segments


# CategoricalEvent: upstream's dummy event spanning the timeline (the engine recomputes it).
_EVENT_TYPES = {"Word", "Audio", "Video", "Text", "Sentence", "CategoricalEvent"}


def _overlap_trs(value) -> int:
    """A whole number of TRs >= 0 (the engine checks it against the model's segment length)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"overlap_trs must be a whole number of TRs >= 0, got {value!r}")
    return int(value)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _events_payload(df) -> dict:
    """The engine's events from any DataFrame with upstream's columns; a ValueError names what
    is missing or wrong."""
    for col in ("type", "start", "duration"):
        if col not in df.columns:
            raise ValueError(f"events DataFrame: missing column '{col}' (upstream's events have type, start, "
                             "duration, filepath, text, context, ...)")
    if "timeline" in df.columns and df["timeline"].nunique(dropna=True) > 1:
        raise ValueError("events DataFrame: several timelines; predict one timeline at a time")
    types = set(df["type"].dropna().unique())
    unknown = types - _EVENT_TYPES
    if unknown:
        raise ValueError(f"events DataFrame: unknown event type(s) {sorted(unknown)} (expected {sorted(_EVENT_TYPES)})")
    if types & {"Audio", "Video"} and "filepath" not in df.columns:
        raise ValueError("events DataFrame: missing column 'filepath' (needed by the Audio/Video rows)")
    if "Word" in types:
        for col in ("text", "context"):
            if col not in df.columns:
                raise ValueError(f"events DataFrame: missing column '{col}' (needed by the Word rows)")
    out = {"media": [], "words": [], "spans": []}
    for i, r in enumerate(df.to_dict("records")):
        kind = r["type"]
        start, duration = r["start"], r["duration"]
        if _missing(start) or _missing(duration):
            raise ValueError(f"events DataFrame: row {i} ({kind}) has no start or duration")
        if kind in ("Audio", "Video"):
            path = r.get("filepath")
            if _missing(path):
                raise ValueError(f"events DataFrame: row {i} ({kind}) has no filepath")
            out["media"].append({"type": kind, "filepath": str(path), "start": float(start), "duration": float(duration),
                                 "offset": 0.0 if _missing(r.get("offset")) else float(r["offset"]),
                                 "frequency": 0.0 if _missing(r.get("frequency")) else float(r["frequency"])})
        elif kind == "Word":
            if _missing(r.get("text")) or _missing(r.get("context")) or not str(r["context"]):
                continue  # upstream's RemoveMissing
            out["words"].append({"text": str(r["text"]), "start": float(start), "duration": float(duration),
                                 "context": str(r["context"]),
                                 "sentence": "" if _missing(r.get("sentence")) else str(r["sentence"])})
        elif kind in ("Text", "Sentence"):
            out["spans"].append({"type": kind, "start": float(start), "duration": float(duration),
                                 "text": "" if _missing(r.get("text")) else str(r["text"])})
        if "language" in r and not _missing(r["language"]):
            out["language"] = str(r["language"])
    if not out["media"] and not out["words"]:
        raise ValueError("events DataFrame: no Audio, Video or Word (with text and context) row to predict from")
    return out


def _segments(info: dict, events) -> list:
    """One Segment per row of segments.json, with the events overlapping its window."""
    segs = info["segments"]
    starts = events["start"].to_numpy(dtype=float)
    stops = starts + events["duration"].fillna(0).to_numpy(dtype=float)
    out = []
    for row in info["rows"]:
        a, b = float(row["start"]), float(row["end"])
        seg = next((s for s in segs if s["start"] <= a + 1e-9 < s["start"] + s["duration"]), segs[-1])
        mask = (starts < b) & (stops > a)
        out.append(Segment(start=float(seg["start"]), duration=b - a, offset=a - float(seg["start"]),
                           events=events[mask].reset_index(drop=True)))
    return out
