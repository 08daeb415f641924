"""Upstream's ROI helpers (tribev2/utils.py) from the engine's ROI layer, against upstream's
formulas written in numpy on the same label map: an HCP-MMP1-shaped atlas on fsaverage
(163,842 vertices, real area names, random assignment; one left area only beyond fsaverage5's
vertices) written by nibabel, read with MNE's read_labels_from_annot rules. <= 1e-6 relative."""

import warnings

import numpy as np
import pytest

import tribev2

nib_fs = pytest.importorskip("nibabel.freesurfer", reason="needs nibabel (Debian: python3-nibabel)")

AREAS = "V1 V2 V3 V4 V3A V3B V6 V6A V7 IPS1 V8 VVC PIT FFC VMV1 VMV2 VMV3 V3CD LO1 LO2 LO3 V4t FST MT MST PH 4 3a 3b 1 2 24dd 24dv 6mp 6ma SCEF 5m 5L 5mv 55b 6d 6a FEF 6v 6r PEF 43 FOP1 OP4 OP1 OP2-3 PFcm A1 LBelt MBelt PBelt RI A4 A5 STSdp STSda STSvp STSva STGa TA2 52 PI Ig PoI1 PoI2 FOP2 FOP3 MI AVI AAIC Pir FOP4 FOP5 H PreS EC PeEc PHA1 PHA2 PHA3 PHT TE1p TE1m TE1a TE2p TE2a TGv TGd TF TPOJ1 TPOJ2 TPOJ3 STV PSL LIPv LIPd VIP AIP MIP 7PC 7AL 7Am 7PL 7Pm PGp PGs PGi PFm PF PFt PFop IP0 IP1 IP2 DVT ProS POS1 POS2 RSC v23ab d23ab 31pv 31pd 31a 23d 23c PCV 7m 33pr p24pr a24pr p24 a24 p32pr a32pr d32 p32 s32 8BM 9m 10v 10r 25 47s 47m a47r 11l 13l a10p p10p 10pp 10d OFC pOFC 44 45 IFJp IFJa IFSp IFSa 47l p47r 8C 8Av i6-8 s6-8 SFL 8BL 9p 9a 8Ad p9-46v a9-46v 46 9-46d".split()


@pytest.fixture(scope="module")
def atlas_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("atlas")
    rng = np.random.default_rng(3)
    for side, h in (("lh", "L"), ("rh", "R")):
        names = [b"???"] + [("%s_%s_ROI" % (h, a)).encode() for a in AREAS]
        ne = len(names)
        cols = rng.choice(250 ** 3, size=ne, replace=False) + 1
        ctab = np.column_stack([cols % 250, (cols // 250) % 250, cols // 62500, np.zeros(ne, int)]).astype(np.int32)
        lab = rng.integers(0, ne, size=163842).astype(np.int32)
        lab[:12] = np.arange(12)
        if side == "lh":  # 10pp only beyond fsaverage5's vertices: empty after the cut
            k = names.index(b"L_10pp_ROI")
            lab[:10242][lab[:10242] == k] = 0
            lab[20000:20010] = k
        nib_fs.write_annot(str(d / ("%s.HCPMMP1.annot" % side)), lab, ctab, names, fill_ctab=True)
    return d


def _mne_labels(d):
    """mne.read_labels_from_annot on both hemispheres, sorted by name."""
    out = []
    for side in ("lh", "rh"):
        annot, ctab, names = nib_fs.read_annot(str(d / ("%s.HCPMMP1.annot" % side)), orig_ids=True)
        for e, n in enumerate(names):
            v = np.where(annot == ctab[e, 4])[0]
            if len(v):
                out.append((n.decode() + "-" + side, v))
    return sorted(out, key=lambda x: x[0])


def upstream_labels(d, hemi):
    """upstream get_hcp_labels(mesh='fsaverage5', combine=False, hemi)."""
    if hemi in ("left", "right"):
        res = {}
        for name, v in _mne_labels(d):
            name = name[2:].replace("_ROI", "")
            if (hemi == "right" and "-lh" in name) or (hemi == "left" and "-rh" in name):
                continue
            res[name.replace("-rh", "").replace("-lh", "")] = v
        off = 10242 if hemi == "right" else 0
        return {k: v[v < 10242] + off for k, v in res.items()}
    left, right = upstream_labels(d, "left"), upstream_labels(d, "right")
    return {k: np.concatenate([left[k], right[k]]) for k in left}


def upstream_indices(labels, rois):
    sel = []
    for roi in rois:
        if roi[-1] == "*":
            sel += [k for k in labels if k.startswith(roi[:-1])]
        elif roi[0] == "*":
            sel += [k for k in labels if k.endswith(roi[1:])]
        else:
            sel += [k for k in labels if k == roi]
    return np.concatenate([labels[k] for k in sel])


def upstream_summary(labels, x):
    """summarize_by_roi: data[..., indices].mean() per key (NaN for an empty key, as numpy)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.stack([x[..., v].mean(-1) for v in labels.values()], axis=-1)


def close(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    nan = np.isnan(want)
    assert (np.isnan(got) == nan).all()
    assert (np.abs(got[~nan] - want[~nan]) <= 1e-6 * np.abs(want[~nan])).all()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((3, 20484)).astype(np.float32) + 0.5


@pytest.mark.parametrize("hemi", ["left", "right", "both"])
def test_labels_and_indices(atlas_dir, hemi):
    want = upstream_labels(atlas_dir, hemi)
    got = tribev2.get_hcp_labels(mesh="fsaverage5", combine=False, hemi=hemi, data_dir=atlas_dir)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    rois = ["V*", "*2", "MT"]
    np.testing.assert_array_equal(tribev2.get_hcp_roi_indices(rois, hemi=hemi, data_dir=atlas_dir),
                                  upstream_indices(want, rois))
    np.testing.assert_array_equal(tribev2.get_hcp_roi_indices("MT", hemi=hemi, data_dir=atlas_dir), want["MT"])


@pytest.mark.parametrize("hemi", ["left", "right", "both", "both_separate"])
def test_summaries_and_topk(atlas_dir, data, hemi):
    x = data.astype(np.float64)
    if hemi == "both_separate":
        left, right = upstream_labels(atlas_dir, "left"), upstream_labels(atlas_dir, "right")
        names = [k + "-lh" for k in left] + [k + "-rh" for k in right]
        want = np.concatenate([upstream_summary(left, x), upstream_summary(right, x)], axis=-1)
    else:
        labels = upstream_labels(atlas_dir, hemi)
        names = list(labels)
        want = upstream_summary(labels, x)
    assert tribev2.get_roi_names(hemi=hemi, data_dir=atlas_dir) == names
    # One map, and a time series (one row per TR).
    close(tribev2.summarize_by_roi(data[0], hemi=hemi, data_dir=atlas_dir), want[0])
    got = tribev2.summarize_by_roi(data, hemi=hemi, data_dir=atlas_dir)
    assert got.shape == (3, len(names)) and got.dtype == np.float64
    close(got, want)
    # 10pp is empty on the left after the cut: NaN, as numpy's mean of nothing.
    assert np.isnan(want).sum() == (3 if hemi in ("left", "both_separate") else 0)
    for k in (1, 5, 10):
        tops = [list(np.array(names)[np.argsort(w, kind="stable")[::-1][:k]]) for w in want]
        assert tribev2.get_topk_rois(data[0], hemi=hemi, k=k, data_dir=atlas_dir) == tops[0]
        assert tribev2.get_topk_rois(data, hemi=hemi, k=k, data_dir=atlas_dir) == tops


def test_arrays_and_errors(atlas_dir, data):
    # float64 and non-contiguous inputs are converted (copied), results the same.
    a = tribev2.summarize_by_roi(data[0], data_dir=atlas_dir)
    b = tribev2.summarize_by_roi(data[0].astype(np.float64), data_dir=atlas_dir)
    c = tribev2.summarize_by_roi(np.asfortranarray(data)[0], data_dir=atlas_dir)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert tribev2.get_hcp_labels(data_dir=atlas_dir)["V1"].dtype == np.int64
    with pytest.raises(ValueError, match="ROI NotAnArea\\* not found"):
        tribev2.get_hcp_roi_indices(["NotAnArea*"], data_dir=atlas_dir)
    with pytest.raises(ValueError, match="both_separate"):
        tribev2.summarize_by_roi(data[0], hemi="top", data_dir=atlas_dir)
    with pytest.raises(ValueError, match="only for summaries"):
        tribev2.get_hcp_labels(hemi="both_separate", data_dir=atlas_dir)
    with pytest.raises(ValueError, match="20484"):
        tribev2.summarize_by_roi(np.zeros(100, np.float32), data_dir=atlas_dir)
    with pytest.raises(NotImplementedError, match="fsaverage5"):
        tribev2.get_hcp_labels(mesh="fsaverage6", data_dir=atlas_dir)
    with pytest.raises((FileNotFoundError, ValueError), match="fetch-atlas"):
        tribev2.get_hcp_labels(data_dir=atlas_dir / "nothing-here")


def test_combined_groups_and_annotation_pairs(atlas_dir, data):
    comb = tribev2.get_hcp_labels(combine=True, hemi="left", data_dir=atlas_dir)
    fine = tribev2.get_hcp_labels(hemi="left", data_dir=atlas_dir)
    assert len(comb) == 23
    np.testing.assert_array_equal(comb["Primary Visual Cortex (V1)"], fine["V1"])
    # Any annotation pair: the same files by path give the same regions (MNE names, uncleaned).
    spec = "%s,%s" % (atlas_dir / "lh.HCPMMP1.annot", atlas_dir / "rh.HCPMMP1.annot")
    pair = tribev2.get_hcp_labels(hemi="left", atlas=spec)
    assert len(pair) == len(fine)
    s = tribev2.summarize_by_roi(data[0], hemi="left", atlas=spec)
    close(s, tribev2.summarize_by_roi(data[0], hemi="left", data_dir=atlas_dir))


def test_plot_annotated_rois(atlas_dir):
    """upstream's plot_surf(annotated_rois=...): the named regions outlined and named (a list, a
    name, or {name: text shown}); a name matching nothing is an error naming it."""
    from conftest import mesh_dir

    plotter = tribev2.PlotBrain(mesh_dir=mesh_dir())
    x = np.random.default_rng(1).standard_normal(20484).astype(np.float32)
    kw = dict(views="left", cmap="fire", colorbar=False, data_dir=str(atlas_dir))
    plain = plotter.render(x, **kw).astype(int)
    for rois in (["V1", "MT"], "V1", {"V1": "primary visual"}):
        img = plotter.render(x, annotated_rois=rois, **kw).astype(int)
        assert img.shape == plain.shape
        changed = int((np.abs(img - plain).sum(-1) > 60).sum())
        assert changed > 200, (rois, changed)
    # The dict's text is drawn instead of the name: the two pictures differ.
    a = plotter.render(x, annotated_rois=["V1"], **kw).astype(int)
    b = plotter.render(x, annotated_rois={"V1": "primary visual"}, **kw).astype(int)
    assert int((np.abs(a - b).sum(-1) > 60).sum()) > 20
    with pytest.raises(Exception, match="NOPE"):
        plotter.render(x, annotated_rois=["NOPE"], **kw)
    import matplotlib.figure

    assert isinstance(plotter.plot_surf(x, annotated_rois=["V1*"], data_dir=str(atlas_dir)), matplotlib.figure.Figure)
