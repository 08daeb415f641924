"""Upstream's ROI helpers (tribev2/utils.py) on the engine's ROI layer (src/roi).

Upstream reads the HCP-MMP1 parcellation through MNE on fsaverage and cuts it to fsaverage5;
the engine reads the same annotation files (``tribev2 fetch-atlas hcp-mmp1`` puts them next to
the fsaverage5 meshes) with the same rules: MNE's label order, upstream's name cleaning
(``L_V1_ROI-lh`` -> ``V1``), fsaverage's first 10,242 vertices per hemisphere, right
hemisphere offset by 10,242. See docs/roi.md.

Engine keywords (not upstream's): ``atlas`` (``"hcp-mmp1"`` by default, ``"hcp-mmp1-combined"``
with ``combine=True``; also ``"desikan"``, ``"destrieux"`` or ``"lh.annot,rh.annot"``) and
``data_dir`` (the folder holding the atlas files; default the fetch-mesh folder).
"""

from __future__ import annotations

import functools

import numpy as np

from . import _tribev2
from ._errors import NotSupportedYet

__all__ = ["get_hcp_labels", "get_hcp_roi_indices", "get_roi_names", "get_topk_rois", "load_atlas", "summarize_by_roi"]


@functools.lru_cache(maxsize=16)
def _atlas_cached(spec: str, data_dir: str):
    return _tribev2.Atlas.load(spec, data_dir)


def load_atlas(atlas: str = "hcp-mmp1", data_dir=None):
    """The engine's :class:`Atlas` (cached per atlas and folder)."""
    return _atlas_cached(str(atlas), str(data_dir or ""))


def _atlas(mesh, atlas, data_dir, combine=False):
    if mesh != "fsaverage5":
        raise NotSupportedYet(f"mesh={mesh!r}: the engine's ROI helpers work on fsaverage5 (TRIBE's output space)")
    if atlas is None:
        atlas = "hcp-mmp1-combined" if combine else "hcp-mmp1"
    elif combine:
        raise ValueError("combine=True builds the hcp-mmp1-combined atlas; pass either combine or atlas")
    return load_atlas(atlas, data_dir)


def get_hcp_labels(mesh="fsaverage5", combine=False, hemi="both", *, atlas=None, data_dir=None) -> dict:
    """``{name: vertex indices}`` of the HCP-MMP1 areas (``combine=True``: MNE's 23 groups), for
    ``hemi`` = ``"left"``, ``"right"`` (indices offset by 10,242) or ``"both"`` (each left key
    with its left then right vertices), in upstream's key order."""
    return _atlas(mesh, atlas, data_dir, combine).labels(hemi)


def get_hcp_roi_indices(rois, hemi="both", mesh="fsaverage5", *, atlas=None, data_dir=None) -> np.ndarray:
    """Vertex indices of the areas named in ``rois`` (a name or a list): exact names, ``"V1*"``
    (prefix) or ``"*_v"`` (suffix) wildcards, concatenated in key order. No match raises."""
    if isinstance(rois, str):
        rois = [rois]
    return _atlas(mesh, atlas, data_dir).roi_indices(list(rois), hemi)


def summarize_by_roi(data, hemi="both", mesh="fsaverage5", *, atlas=None, data_dir=None) -> np.ndarray:
    """The mean of ``data`` over each area: ``[n_rois]`` for one map ``[20484]``, ``[n, n_rois]``
    for rows ``[n, 20484]`` (one row per TR). ``hemi="both_separate"``: left areas then right.
    NaN for an area with no fsaverage5 vertex, as numpy's mean of nothing."""
    return _atlas(mesh, atlas, data_dir).summarize(data, hemi)


def get_topk_rois(data, hemi="both", mesh="fsaverage5", k=10, *, atlas=None, data_dir=None):
    """The names of the ``k`` areas with the largest means, largest first
    (``argsort(summarize_by_roi(data))[::-1][:k]``); a list per row for rows ``[n, 20484]``."""
    return _atlas(mesh, atlas, data_dir).topk(data, hemi, int(k))


def get_roi_names(hemi="both", mesh="fsaverage5", *, atlas=None, data_dir=None) -> list:
    """The names of :func:`summarize_by_roi`'s values, in order."""
    return _atlas(mesh, atlas, data_dir).summary_names(hemi)
