# Checks a `tribev2 roi` table against nibabel + numpy: the regions of a FreeSurfer annotation pair
# (read by nibabel.freesurfer.read_annot, cut to fsaverage5, names as in the file: a user atlas)
# and each line's mean over their vertices in float64 (the `mean` line: the float32 mean map, as
# tribev2 writes it). usage: check_roi_tsv.py LH.annot RH.annot PREDS.npy ROI.tsv
import sys, numpy as np, nibabel.freesurfer as fs
lh, rh, preds, tsv = sys.argv[1:5]
data = np.load(preds).astype(np.float64)
cols = {}
for h, path, off in (("lh", lh, 0), ("rh", rh, 10242)):
    lab, ctab, names = fs.read_annot(path)
    lab = lab[:10242]
    for i, n in enumerate(names):
        v = np.where(lab == i)[0]
        if v.size: cols.setdefault(n.decode(), []).append(v + off)
lines = [l.rstrip("\n").split("\t") for l in open(tsv)]
head = lines[0][2:]
assert sorted(head) == sorted(cols), (len(head), len(cols))
worst = 0.0
for l in lines[1:]:
    row = data.mean(0).astype(np.float32).astype(np.float64) if l[0] == "mean" else data[int(l[0])]
    for name, val in zip(head, l[2:]):
        ref = row[np.concatenate(cols[name])].mean()
        worst = max(worst, abs(float(val) - ref) / max(abs(ref), 1e-12))
print(f"{len(lines)-1} rows x {len(head)} ROIs, worst relative difference {worst:.2e}")
