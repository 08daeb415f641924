"""PlotBrain: upstream's brain figures (tribev2/plotting) drawn by the engine's renderer.

The brains are rasterised by the C++ renderer (fsaverage5, nilearn's colormaps, colour bar);
with matplotlib importable the image is embedded in a ``matplotlib.figure.Figure`` (or drawn
into the ``axes`` given), else the RGBA ``np.ndarray`` is returned. ``norm_percentile``,
``alpha_cmap`` and ``show_stimuli`` are the engine's (as ``tribev2 plot --norm-percentile
--alpha-cmap --stimuli``), and so are ``annotated_rois`` (with ``roi_atlas``, ``roi_outline``,
``data_dir``: ``--annotate-rois --roi-atlas --roi-outline``). Upstream options this version does not support raise
:class:`NotImplementedError` instead of being ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _tribev2
from ._errors import NotSupportedYet

# upstream views -> (layout, view, hemi) of the engine's figures
_VIEWS = {
    "left": ("single", "lateral", "left"),
    "right": ("single", "lateral", "right"),
    "medial_left": ("single", "medial", "left"),
    "medial_right": ("single", "medial", "right"),
    "dorsal": ("single", "dorsal", "both"),
    "ventral": ("single", "ventral", "both"),
    "anterior": ("single", "anterior", "both"),
    "posterior": ("single", "posterior", "both"),
    "lateral": ("lateral", None, None),
    "4panel": ("4panel", None, None),
    "6view": ("6view", None, None),
}

# Keyword arguments of plot_surf that other parts of the engine will provide; refused for now.
_PENDING = {
    "trues": "trues (ground-truth rows) is not supported",
    "atlas_name": "atlases are not supported",
}


def _check_pending(kwargs: dict) -> None:
    for k, why in _PENDING.items():
        v = kwargs.get(k)
        if v is not None and v is not False:
            raise NotSupportedYet(f"{k}: {why} (not in this version of tribev2)")


def _stimuli(segments, drawn) -> dict:
    """upstream's show_stimuli rows from the segments' events: the first Video and Audio events
    (their file and where its t = 0 sits on the timeline), every Word, the drawn blocks' times
    and the span of all the segments given."""
    if not segments:
        raise ValueError("show_stimuli=True needs the segments returned by TribeModel.predict (segments=...)")
    req = {"words": [], "block_times": [float(s.start + s.offset) for s in drawn],
           "span": (float(segments[0].start + segments[0].offset), float(segments[-1].stop))}
    seen = set()
    for seg in segments:
        ev = getattr(seg, "events", None)
        if ev is None or len(ev) == 0:
            continue
        for _, r in ev.iterrows():
            kind = r.get("type")
            if kind in ("Video", "Audio") and kind.lower() not in req:
                offset = r.get("offset", 0.0)
                offset = 0.0 if offset is None or offset != offset else float(offset)
                req[kind.lower()] = str(r["filepath"])
                req[kind.lower() + "_origin"] = float(r["start"]) - offset
            elif kind == "Word":
                key = (float(r["start"]), str(r["text"]))
                if key not in seen:
                    seen.add(key)
                    req["words"].append((float(r["start"]), float(r.get("duration", 0.0) or 0.0), str(r["text"])))
    return req


def robust_normalize(data, percentile=99.0) -> np.ndarray:
    """upstream's robust_normalize (all values at once, two-sided, clipped to [0, 1]): a copy."""
    return _tribev2.robust_normalize(np.asarray(data, dtype=np.float32), float(percentile))


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


class PlotBrain:
    """Brain maps on fsaverage5 (upstream ``PlotBrain(mesh="fsaverage5")``)."""

    def __init__(self, mesh="fsaverage5", inflate="half", bg_map="sulcal", hemisphere_gap=0.0, atlas_name=None,
                 atlas_dim=None, vol_to_surf_kwargs=None, *, mesh_dir=None, threads=0):
        if mesh != "fsaverage5":
            raise NotSupportedYet(f"mesh={mesh!r}: the engine draws fsaverage5 (20484 vertices) only")
        if atlas_name is not None or atlas_dim is not None or vol_to_surf_kwargs is not None:
            raise NotSupportedYet("atlas_name / atlas_dim / vol_to_surf_kwargs (volume atlases) are not supported")
        surfaces = {"half": "half", True: "inflated", False: "pial"}
        if inflate not in surfaces:
            raise ValueError(f"inflate must be 'half', True or False, got {inflate!r}")
        if bg_map == "thresholded":
            raise NotSupportedYet("bg_map='thresholded' is not supported (use 'sulcal' or 'curvature')")
        backgrounds = {"sulcal": "sulc", "curvature": "curv"}
        if bg_map not in backgrounds:
            raise ValueError(f"bg_map must be 'sulcal', 'curvature' or 'thresholded', got {bg_map!r}")
        self.mesh = mesh
        self.threads = threads
        self._surface = _tribev2.Surface(mesh_dir=str(mesh_dir or ""), surface=surfaces[inflate],
                                         background=backgrounds[bg_map], hemisphere_gap=float(hemisphere_gap))

    # -- engine options --------------------------------------------------------------------
    @staticmethod
    def _options(views="left", cmap=None, vmin=None, vmax=None, threshold=None, colorbar=None, symmetric_cbar=None,
                 title=None, dpi=None, annotated_rois=None, **kwargs) -> dict:
        _check_pending(kwargs)
        engine = {"supersample", "panel_width", "bg_darkness", "bg_on_data", "colorbar_label", "percentile", "size",
                  "columns", "alpha_cmap", "roi_atlas", "roi_outline", "data_dir"}
        unknown = set(kwargs) - engine - set(_PENDING)
        if unknown:
            raise TypeError(f"unexpected keyword argument(s): {sorted(unknown)}")
        if not isinstance(views, str):
            raise NotSupportedYet("views: one view name per figure (a list of views per axes is not supported)")
        if views not in _VIEWS:
            raise ValueError(f"views must be one of {sorted(_VIEWS)}, got {views!r}")
        layout, view, hemi = _VIEWS[views]
        o = {"layout": layout}
        if view is not None:
            o["view"], o["hemi"] = view, hemi
        if cmap is not None:
            if not isinstance(cmap, str):
                raise NotSupportedYet("cmap: a colormap name (matplotlib Colormap objects are not supported)")
            o["cmap"] = cmap
        for k, v in (("vmin", vmin), ("vmax", vmax), ("threshold", threshold), ("title", title), ("dpi", dpi),
                     ("colorbar", colorbar)):
            if v is not None:
                o[k] = v
        if symmetric_cbar is not None:
            o["symmetric"] = "auto" if symmetric_cbar == "auto" else ("yes" if symmetric_cbar else "no")
        for k in engine:
            if kwargs.get(k) is not None:
                o[k] = kwargs[k]
        if annotated_rois is not None:
            # upstream: a name, a list of names, or {name: text shown}; here also V1*-style patterns
            if isinstance(annotated_rois, str):
                annotated_rois = [annotated_rois]
            if isinstance(annotated_rois, dict):
                o["roi_names"] = {str(k): str(v) for k, v in annotated_rois.items()}
            o["annotated_rois"] = [str(r) for r in annotated_rois]
        if "alpha_cmap" in o:
            a = o["alpha_cmap"]
            if not isinstance(a, (tuple, list)) or len(a) != 2:
                raise ValueError(f"alpha_cmap must be a pair (threshold, scale), got {a!r}")
            o["alpha_cmap"] = (float(a[0]), float(a[1]))
        return o

    def render(self, maps, labels=(), *, norm_percentile=None, stimuli=None, **kwargs) -> np.ndarray:
        """RGBA uint8 ``[H, W, 4]`` image of one map ``[20484]`` or a row of maps ``[n, 20484]``.
        ``norm_percentile``: upstream's robust_normalize over all the maps first; ``stimuli``:
        the stimulus rows (see :func:`_stimuli`)."""
        return _tribev2.render_maps(self._surface, maps, list(labels), self._options(**kwargs), self.threads,
                                    None if norm_percentile is None else float(norm_percentile), stimuli or {})

    @staticmethod
    def _figure(image: np.ndarray, axes=None, dpi=150.0):
        if not _have_matplotlib():
            return image
        if axes is not None:
            ax = axes[0] if isinstance(axes, (list, tuple, np.ndarray)) else axes
            ax.imshow(image)
            ax.axis("off")
            return ax.figure
        from matplotlib.figure import Figure

        h, w = image.shape[:2]
        fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.imshow(image, interpolation="nearest")
        ax.axis("off")
        return fig

    # -- upstream API ------------------------------------------------------------------------
    def plot_surf(self, data, axes=None, views="left", norm_percentile=None, **kwargs):
        """One map ``[20484]``: a matplotlib Figure (the image drawn into ``axes`` when given),
        or the RGBA array without matplotlib. ``alpha_cmap=(threshold, scale)`` fades the
        colours in; ``norm_percentile`` normalises the map first (robust_normalize)."""
        data = np.asarray(data)
        if data.ndim != 1:
            raise ValueError(f"plot_surf expects one map [20484], got shape {data.shape}")
        if kwargs.get("show_stimuli"):
            raise ValueError("show_stimuli goes with plot_timesteps (time steps and their segments), not plot_surf")
        kwargs.pop("show_stimuli", None)
        kwargs.setdefault("colorbar", True)
        image = self.render(data, views=views, norm_percentile=norm_percentile, **kwargs)
        return self._figure(image, axes, kwargs.get("dpi") or 150.0)

    def plot_timesteps(self, neuro, segments=None, *, plot_every_k_timesteps=1, trues=None, norm_percentile=None,
                       show_stimuli=False, views="left", timestamps=None, **kwargs):
        """Rows ``[n, 20484]`` side by side with ``t=...s`` labels (upstream plot_timesteps).

        ``norm_percentile=P``: the maps drawn are normalised together to [0, 1] between their
        (100-P)-th and P-th percentiles (upstream's robust_normalize); ``alpha_cmap=(t, s)``: the
        colours fade in from transparent at t to opaque at t+s of the colour range;
        ``show_stimuli=True``: video frames, the audio waveform and the words of ``segments``
        above the brains (all blocks in one row, as upstream)."""
        _check_pending({"trues": trues})
        if isinstance(neuro, dict):
            if len(neuro) != 1:
                raise NotSupportedYet("plot_timesteps: several named series in one figure are not supported")
            neuro = next(iter(neuro.values()))
        neuro = np.asarray(neuro)
        if neuro.ndim != 2:
            raise ValueError(f"Neuro must be a 2D array [n_timesteps, 20484], got shape {neuro.shape}")
        n_total = neuro.shape[0]
        if n_total % plot_every_k_timesteps != 0:
            raise ValueError(f"Total number of timesteps {n_total} must be divisible by plot_every_k_timesteps "
                             f"{plot_every_k_timesteps}")
        neuro = neuro[::plot_every_k_timesteps]
        n = neuro.shape[0]
        if timestamps is None:
            timestamps = list(range(0, n * plot_every_k_timesteps, plot_every_k_timesteps))
        elif len(timestamps) != n:
            raise ValueError(f"Number of timestamps {len(timestamps)} must match number of timesteps {n}")
        kwargs.setdefault("columns", n)
        stimuli = None
        if show_stimuli:
            if segments is None:
                raise ValueError("show_stimuli=True needs segments= (the segments returned by TribeModel.predict)")
            segments = list(segments)
            if len(segments) != n_total:
                raise ValueError(f"segments: {len(segments)} segments for {n_total} time steps")
            stimuli = _stimuli(segments, segments[::plot_every_k_timesteps])
        image = self.render(neuro, labels=[f"t={t}s" for t in timestamps], views=views,
                            norm_percentile=norm_percentile, stimuli=stimuli, **kwargs)
        return self._figure(image, None, kwargs.get("dpi") or 150.0)

    def plot_timesteps_mp4(self, neuro, filepath, *, segments=None, suptitle=None, interpolated_fps=None,
                           norm_percentile=100, **plot_kwargs):
        """An MP4 movie of rows ``[n, 20484]`` at 1 row per second (H.264, crf 18), as
        ``tribev2 movie``.

        ``segments`` (those returned by :meth:`TribeModel.predict`, one per row; extra ones are
        ignored, as upstream): each frame of row ``i`` shows the last 8 words of ``segments[i]``
        (its Word events with their onset in the segment's window, lower case, punctuation
        removed: upstream's ``get_text``). ``interpolated_fps=F``: ``F`` frames per row blended
        linearly between the rows, played at ``F`` fps, ``(n - 1) * F + 1`` frames (upstream uses
        ffmpeg's ``minterpolate`` at the same rate); ``F`` is rounded to a whole number in [1, 120]."""
        if interpolated_fps is not None:
            if isinstance(interpolated_fps, bool) or not isinstance(interpolated_fps, (int, float, np.integer,
                                                                                          np.floating)):
                raise ValueError(f"interpolated_fps must be a number of frames per second in [1, 120], "
                                 f"got {interpolated_fps!r}")
            interpolated_fps = float(interpolated_fps)
        views = plot_kwargs.pop("views", "left")
        options = self._options(views=views, title=suptitle, **plot_kwargs)
        neuro = np.asarray(neuro)
        if neuro.ndim != 2:
            raise ValueError(f"plot_timesteps_mp4 expects rows [n_timesteps, 20484], got shape {neuro.shape}")
        captions = _caption_rows(segments, len(neuro)) if segments else None
        if norm_percentile is not None and norm_percentile != 100:
            neuro = robust_normalize(neuro, norm_percentile)
        Path(filepath).parent.mkdir(parents=True, exist_ok=True)
        return _tribev2.write_movie(self._surface, neuro, [float(i) for i in range(len(neuro))], str(filepath),
                                    options, 1.0, 1, self.threads, False, interpolated_fps, captions)


def _caption_rows(segments, n: int) -> list:
    """The movie's caption input for rows ``0 .. n-1``: per row, the window ``[start + offset,
    stop)`` of ``segments[i]`` and its Word events ``(start, duration, text)``; the engine makes
    the caption from them (``_tribev2.movie_captions``, the rule of ``tribev2 movie``)."""
    segments = list(segments)
    if len(segments) < n:
        raise ValueError(f"segments: {len(segments)} segments for {n} rows (one per row, as returned by "
                         "TribeModel.predict)")
    rows = []
    for i, seg in enumerate(segments[:n]):
        try:
            start = float(seg.start) + float(getattr(seg, "offset", 0.0) or 0.0)
            stop = float(seg.stop) if hasattr(seg, "stop") else start + float(seg.duration)
        except (AttributeError, TypeError, ValueError) as e:
            raise ValueError(f"segments[{i}]: expected a segment with start, offset, duration/stop and events "
                             f"(as returned by TribeModel.predict), got {type(seg).__name__} ({e})") from None
        words = []
        ev = getattr(seg, "events", None)
        if ev is not None and len(ev) > 0 and "type" in ev.columns:
            for r in ev[ev["type"] == "Word"].to_dict("records"):
                text = r.get("text")
                if text is None or (isinstance(text, float) and text != text):
                    continue
                duration = r.get("duration", 0.0)
                duration = 0.0 if duration is None or duration != duration else float(duration)
                words.append((float(r["start"]), duration, str(text)))
        rows.append((start, stop, words))
    return rows
