#!/usr/bin/env bash
# Makes the ROI demo of docs/gallery.md (issue 14): region outlines and names drawn over the
# random-weight demo prediction, and the per-region table of `tribev2 roi`.
# The parcellation is SYNTHETIC (make_roi_demo.py: 24 Voronoi parcels per hemisphere of the
# fsaverage5 sphere, named SYN01..SYN24), not an anatomical atlas: the real HCP-MMP1 atlas comes
# from `tribev2 fetch-atlas hcp-mmp1` on a connected machine. The maps are the demo's seeded
# random weights on synthetic features: NOT brain predictions.
# The meshes are fetched once with `tribev2 fetch-mesh` (never committed); MESH_DIR defaults to
# the shared local copy. usage: make_roi_demo.sh WORK_DIR [MESH_DIR] [LH_ANNOT,RH_ANNOT]
# With the third argument (a real HCP-MMP1 pair on fsaverage or fsaverage5; docs/gallery.md
# names the copy used) it also draws roi_hcp_mmp1.png and checks its roi table against nibabel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="${TRIBEV2:-$root/build/src/cli/tribev2}"
W="$1"; MESH="${2:-$root/../shared/data/fsaverage5}"
mkdir -p "$W"; W="$(cd "$W" && pwd)"; MESH="$(cd "$MESH" && pwd)"
cd "$W"
# 1. The random-weight demo prediction: demo/preds.npy [130, 20484].
"$T" -q demo --out demo
# 2. The synthetic parcellation: atlas/lh.synthetic.annot, atlas/rh.synthetic.annot.
/usr/bin/python3 "$root/docs/gallery/make_roi_demo.py" "$MESH" atlas
A=atlas/lh.synthetic.annot,atlas/rh.synthetic.annot
# 3. Every region outlined, eight of them named, over the mean map (4 panels).
"$T" plot demo/preds.npy --roi-outline "$A" --annotate-rois SYN03,SYN07,SYN10,SYN14,SYN15,SYN20,SYN21,SYN23 \
  --percentile 99 --dpi 90 --title "Synthetic parcellation (not an atlas)" --colorbar-label "mean (random weights)" \
  --mesh-dir "$MESH" --out roi_outlines.png
# 4. Only the named regions outlined (--annotate-rois without --roi-outline; its atlas from --roi-atlas).
"$T" plot demo/preds.npy --roi-atlas "$A" --annotate-rois SYN10,SYN14,SYN20 --view lateral --hemi left \
  --percentile 99 --dpi 90 --title "Named regions only" --mesh-dir "$MESH" --out roi_annotate_only.png
# 5. Every region named in one view: crowded names are moved apart (leader lines).
"$T" plot demo/preds.npy --roi-outline "$A" --annotate-rois "$(seq -f 'SYN%02g' 1 24 | paste -sd,)" \
  --view lateral --hemi left --percentile 99 --dpi 150 --panel-width 2.2 --title "All 24 names, lateral left" \
  --mesh-dir "$MESH" --out roi_names_crowded.png
# 6. Mean per region and row (SYNkk of both hemispheres pooled, as upstream's hemi="both"), and
#    the 5 highest regions per row: roi/roi.tsv, roi/roi_top5.tsv.
"$T" roi demo/preds.npy --atlas "$A" --top 5 --out roi/roi.tsv
# 7. A real HCP-MMP1 pair, when given: outlines and ten names, and its roi table against
#    nibabel + numpy (docs/gallery/check_roi_tsv.py prints the worst relative difference).
if [[ $# -ge 3 ]]; then
  H="$3"
  "$T" plot demo/preds.npy --roi-outline "$H" --annotate-rois V1,MT,A1,44,45,FFC,55b,TE1a,7PC,PGi --percentile 99 \
    --dpi 110 --title "HCP-MMP1 (Glasser 2016) on fsaverage5" --colorbar-label "mean (random weights)" \
    --mesh-dir "$MESH" --out roi_hcp_mmp1.png
  "$T" roi demo/preds.npy --atlas "$H" --top 10 --out roi_hcp/roi.tsv
  /usr/bin/python3 "$root/docs/gallery/check_roi_tsv.py" "${H%%,*}" "${H##*,}" demo/preds.npy roi_hcp/roi.tsv
fi
