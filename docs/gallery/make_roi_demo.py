#!/usr/bin/python3
"""A SYNTHETIC parcellation of fsaverage5 for the ROI demo of docs/gallery.md.

NOT an anatomical atlas. The real HCP-MMP1 / Desikan / Destrieux atlases come from
`tribev2 fetch-atlas ...` on a connected machine; this one only exercises the `.annot` code paths
(`plot --roi-outline`, `--annotate-rois`, `roi --atlas LH.annot,RH.annot`) where they cannot be
downloaded.

The left hemisphere's sphere (sphere_left.gii.gz, from `tribev2 fetch-mesh`) is cut into N
parcels: N seeds by farthest-point sampling from a seeded random start, a few Lloyd (spherical
k-means) steps, then every vertex goes to its nearest seed (Voronoi cells on the sphere, so each
parcel is one connected patch). The right hemisphere takes the mirror images (x -> -x) of the
left seeds, so SYNkk-lh and SYNkk-rh sit at roughly homologous places. Names SYN01..SYNnn,
numbered from posterior (occipital) to anterior (frontal) by seed y. Deterministic: same mesh,
same seed, same files.

usage: make_roi_demo.py MESH_DIR OUT_DIR [--parcels N] [--seed S]
writes OUT_DIR/lh.synthetic.annot and OUT_DIR/rh.synthetic.annot
"""
import argparse
import colorsys
import os

import nibabel as nib
import numpy as np


def sphere(mesh_dir, side):
    g = nib.load(os.path.join(mesh_dir, f"sphere_{side}.gii.gz"))
    xyz = np.asarray(g.darrays[0].data, np.float64)
    return xyz / np.linalg.norm(xyz, axis=1, keepdims=True)


def seeds_on(xyz, n, rng, lloyd_steps=10):
    # Farthest-point sampling from a random vertex, then spherical k-means (Lloyd).
    idx = [int(rng.integers(len(xyz)))]
    best = xyz @ xyz[idx[0]]  # cosine to the nearest seed so far
    for _ in range(n - 1):
        i = int(np.argmin(best))
        idx.append(i)
        best = np.maximum(best, xyz @ xyz[i])
    c = xyz[idx].copy()
    for _ in range(lloyd_steps):
        lab = np.argmax(xyz @ c.T, axis=1)
        for k in range(n):
            m = xyz[lab == k].sum(axis=0)
            if np.linalg.norm(m) > 0:
                c[k] = m / np.linalg.norm(m)
    return c


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mesh_dir")
    p.add_argument("out_dir")
    p.add_argument("--parcels", type=int, default=24)
    p.add_argument("--seed", type=int, default=14)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    lh, rh = sphere(a.mesh_dir, "left"), sphere(a.mesh_dir, "right")
    for name, x in (("left", lh), ("right", rh)):
        if len(x) != 10242:
            raise SystemExit(f"sphere_{name}.gii.gz: {len(x)} vertices, expected fsaverage5's 10242")
    c = seeds_on(lh, a.parcels, rng)
    c = c[np.argsort(c[:, 1])]  # SYN01 posterior ... SYNnn anterior
    # Distinct, fixed colours (the colour table is part of the .annot; tribev2 draws outlines only).
    ctab = np.zeros((a.parcels, 5), np.int32)
    for k in range(a.parcels):
        r, g, b = colorsys.hsv_to_rgb((k * 0.618034) % 1.0, 0.55, 0.9)
        ctab[k, :3] = [int(255 * r), int(255 * g), int(255 * b)]
    names = [f"SYN{k + 1:02d}".encode() for k in range(a.parcels)]
    os.makedirs(a.out_dir, exist_ok=True)
    mirror = np.array([-1.0, 1.0, 1.0])
    for hemi, xyz, cc in (("lh", lh, c), ("rh", rh, c * mirror)):
        labels = np.argmax(xyz @ cc.T, axis=1).astype(np.int32)
        out = os.path.join(a.out_dir, f"{hemi}.synthetic.annot")
        nib.freesurfer.write_annot(out, labels, ctab, names, fill_ctab=True)
        sizes = np.bincount(labels, minlength=a.parcels)
        print(f"{out}: {a.parcels} parcels, {sizes.min()}..{sizes.max()} vertices each")


if __name__ == "__main__":
    main()
