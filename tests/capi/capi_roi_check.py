#!/usr/bin/python3
"""Runs test_capi_roi on an HCP-MMP1-shaped atlas written by nibabel (fsaverage5 size) and
compares its summaries, top-10 and indices with upstream's formulas in numpy (<= 1e-6 rel).
Exit 77 (skipped) without nibabel."""
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

try:
    import nibabel.freesurfer as nib_fs
except ImportError:
    print("skipped: needs nibabel (Debian: python3-nibabel)")
    sys.exit(77)

AREAS = ("V1 V2 V3 V4 V3A V3B V6 V6A V7 IPS1 V8 VVC PIT FFC MT MST PH 4 3a 3b 1 2 24dd 6mp A1 LBelt MBelt PBelt "
         "44 45 46 9-46d 10pp p24 a24").split()


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rng = np.random.default_rng(11)
        for side, h in (("lh", "L"), ("rh", "R")):
            names = [b"???"] + [("%s_%s_ROI" % (h, a)).encode() for a in AREAS]
            ne = len(names)
            cols = rng.choice(250 ** 3, size=ne, replace=False) + 1
            ctab = np.column_stack([cols % 250, (cols // 250) % 250, cols // 62500, np.zeros(ne, int)]).astype(np.int32)
            lab = rng.integers(0, ne, size=10242).astype(np.int32)
            if side == "lh":  # 10pp empty on the left: NaN
                lab[lab == names.index(b"L_10pp_ROI")] = 0
            nib_fs.write_annot(str(d / ("%s.HCPMMP1.annot" % side)), lab, ctab, names, fill_ctab=True)
        data = (rng.standard_normal((2, 20484)) + 0.5).astype(np.float32)
        data.tofile(d / "data.f32")
        r = subprocess.run([binary, str(d)], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-2000:], r.stderr)
            return 1
        out = r.stdout.splitlines()

        labs = []
        for side in ("lh", "rh"):
            annot, ctab, names = nib_fs.read_annot(str(d / ("%s.HCPMMP1.annot" % side)), orig_ids=True)
            for e, n in enumerate(names):
                v = np.where(annot == ctab[e, 4])[0]
                if len(v):
                    labs.append((n.decode() + "-" + side, v))
        labs.sort(key=lambda x: x[0])

        def hcp(hemi):
            if hemi in ("left", "right"):
                res = {}
                for name, v in labs:
                    name = name[2:].replace("_ROI", "")
                    if (hemi == "right" and "-lh" in name) or (hemi == "left" and "-rh" in name):
                        continue
                    res[name.replace("-rh", "").replace("-lh", "")] = v
                off = 10242 if hemi == "right" else 0
                return {k: v[v < 10242] + off for k, v in res.items()}
            left, right = hcp("left"), hcp("right")
            return {k: np.concatenate([left[k], right[k]]) for k in left}

        x = data.astype(np.float64)
        bad = 0
        for hemi in ("left", "right", "both", "both_separate"):
            if hemi == "both_separate":
                parts = [("-lh", hcp("left")), ("-rh", hcp("right"))]
            else:
                parts = [("", hcp(hemi))]
            names = [k + suf for suf, lab in parts for k in lab]
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                want = np.array([[x[r, v].mean() for _, lab in parts for v in lab.values()] for r in range(2)])
            got_lines = [line.split() for line in out if line.startswith("summary %s " % hemi)]
            got_names = [g[2] for g in got_lines]
            if got_names != names:
                print("names differ for", hemi, got_names[:5], names[:5])
                bad += 1
                continue
            got = np.array([[float(v) for v in g[3:]] for g in got_lines]).T
            nan = np.isnan(want)
            if not ((np.isnan(got) == nan).all() and (np.abs(got[~nan] - want[~nan]) <= 1e-6 * np.abs(want[~nan])).all()):
                print("summaries differ for", hemi)
                bad += 1
            top = list(np.array(names)[np.argsort(want[0], kind="stable")[::-1][:10]])
            got_top = next(line.split()[2:] for line in out if line.startswith("top %s" % hemi))
            if got_top != top:
                print("top-10 differs for", hemi, got_top, top)
                bad += 1
            if hemi != "both_separate":
                lab = hcp(hemi)
                sel = [k for k in lab if k.startswith("V")] + [k for k in lab if k.endswith("2")] + ["MT"]
                want_idx = np.concatenate([lab[k] for k in sel])
                got_idx = np.array(next(line.split()[2:] for line in out if line.startswith("indices %s " % hemi)), int)
                if not np.array_equal(got_idx, want_idx):
                    print("indices differ for", hemi)
                    bad += 1
        print("C API ROI vs numpy:", "ok" if bad == 0 else "%d mismatches" % bad)
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
