"""The three feature extractors on their own, on events of an events DataFrame.

Each returns numpy float32 arrays computed by the engine (no PyTorch). ``model_dir`` is a
local folder or a Hugging Face repo id (``meta-llama/Llama-3.2-3B``, ``facebook/w2v-bert-2.0``,
``facebook/vjepa2-vitg-fpc64-256``), resolved by the engine's Hub client (``hub``: options
``cache_dir``, ``endpoint``, ``token``, ``offline``; else the HF_* environment):

- ``text_features``: Llama 3 features of the Word events, ``[n_words, L, D]``
- ``audio_features`` / ``video_features``: one ``[L, D, round(2 * duration)]`` array per
  Audio / Video event (chunk), at 2 Hz from the event's start.
"""

from __future__ import annotations

import math

from . import _tribev2


def _rows(events, kind):
    if "type" not in getattr(events, "columns", ()):
        raise TypeError("events must be an events DataFrame (with a 'type' column)")
    return events[events["type"] == kind]


def _value(row, key, default):
    v = row.get(key, default)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return default
    return v


def _model(model_dir, role, hub, progress):
    return _tribev2.resolve_model(str(model_dir), role, [], hub or {}, progress)


def text_features(model_dir, events, *, threads=0, precision="f32", progress=False, hub=None):
    """Llama 3 word features ``[n_words, L, D]`` of the Word rows of ``events`` (their
    ``context`` is what the model reads, as upstream's HuggingFaceText)."""
    words = []
    for _, r in _rows(events, "Word").iterrows():
        words.append({
            "text": str(r["text"]),
            "start": float(r["start"]),
            "duration": float(r["duration"]),
            "context": str(_value(r, "context", "")),
            "sentence": str(_value(r, "sentence", "")),
        })
    if not words:
        raise ValueError("events has no Word rows")
    return _tribev2.text_word_features(_model(model_dir, "text", hub, progress), words, threads=threads, precision=precision, progress=progress)


def _media(fn, kind, model_dir, events, threads, precision, progress, hub):
    out = []
    rows = _rows(events, kind)
    if len(rows):
        model_dir = _model(model_dir, kind.lower(), hub, progress)
    for _, r in rows.iterrows():
        ev = {
            "filepath": str(r["filepath"]),
            "start": float(r["start"]),
            "offset": float(_value(r, "offset", 0.0)),
            "duration": float(r["duration"]),
            "frequency": float(_value(r, "frequency", 0.0)),
        }
        out.append(fn(str(model_dir), ev, threads=threads, precision=precision, progress=progress))
    if not out:
        raise ValueError(f"events has no {kind} rows")
    return out


def audio_features(model_dir, events, *, threads=0, precision="f32", progress=False, hub=None):
    """w2v-BERT 2.0 features, one ``[L, D, N]`` array per Audio row of ``events``."""
    return _media(_tribev2.audio_chunk_features, "Audio", model_dir, events, threads, precision, progress, hub)


def video_features(model_dir, events, *, threads=0, precision="f32", progress=False, hub=None):
    """V-JEPA2 features, one ``[L, D, N]`` array per Video row of ``events``."""
    return _media(_tribev2.video_chunk_features, "Video", model_dir, events, threads, precision, progress, hub)
