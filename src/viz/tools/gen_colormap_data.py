#!/usr/bin/python3
"""Writes src/viz/colormap_data.cpp: the 256-entry RGB lookup tables of the colormaps tribev2
draws with, taken from the matplotlib installed with Debian's python3-matplotlib.

Run with Debian's Python (matplotlib; python3-colorcet for "fire"):
  /usr/bin/python3 src/viz/tools/gen_colormap_data.py
The tables are data (matplotlib: PSF-style Matplotlib license; viridis/plasma/inferno: CC0 by
Nathaniel J. Smith, Stefan van der Walt and Eric Firing). nilearn's colormaps (cold_hot,
cold_white_hot, black_red, black_blue, ..., BSD-3-Clause) are rebuilt here from nilearn's rules
(nilearn/plotting/cm.py: mirrored, channel-rotated and concatenated matplotlib maps) with
matplotlib's own LinearSegmentedColormap sampling. "fire" is colorcet's, which is what upstream
TRIBE's get_cmap("fire") resolves to (nilearn has no "fire").
"""
import os
import sys

import matplotlib
import numpy as np
from matplotlib import colors

N = 256


# nilearn's colormap rules (nilearn/plotting/cm.py, BSD-3-Clause), re-expressed on matplotlib's
# segment data: each nilearn map is a LinearSegmentedColormap with rcParams["image.lut"] = 256
# entries built from the segment lists of a matplotlib map.
def _seg(name):
    return matplotlib.colormaps[name]._segmentdata


def _mirror_channel(segments, low_source, high_source):
    """nilearn's "pigtailed" channel: the low half is the source channel's segments reflected into
    [0, 0.5] (position p -> (1 - p) / 2, list reversed), the high half the channel's own
    segments squeezed into [0.5, 1]."""
    low = [(0.5 * (1 - p), a, b) for (p, a, b) in reversed(segments[low_source])]
    high = [(0.5 * (1 + p), a, b) for (p, a, b) in segments[high_source]]
    return low + high


def pigtailed(base, order=("green", "red", "blue")):
    """A map joined to its mirror image: the low half takes green, blue and red from the base's
    `order` channels."""
    seg = _seg(base)
    return {
        "green": _mirror_channel(seg, order[0], "green"),
        "blue": _mirror_channel(seg, order[1], "blue"),
        "red": _mirror_channel(seg, order[2], "red"),
    }


def rotated(base, order=("green", "red", "blue")):
    """The base map with its channels permuted: green, blue, red come from `order`."""
    seg = _seg(base)
    return {"green": list(seg[order[0]]), "blue": list(seg[order[1]]), "red": list(seg[order[2]])}


def concatenated(first, second):
    """`first` squeezed into [0, 0.5] and `second` into [0.5, 1]; a map defined by functions is
    first sampled at 10 points (nilearn's rule)."""
    out = {c: [] for c in ("red", "green", "blue")}
    for cmap_name, shift in ((first, 0.0), (second, 1.0)):
        seg = _seg(cmap_name)
        if not callable(seg["red"]):
            for c in out:
                out[c].extend((0.5 * (shift + p), a, b) for (p, a, b) in seg[c])
        else:
            ps = np.linspace(0, 1, 10)
            for p, (r, g, b, _) in zip(ps, matplotlib.colormaps[cmap_name](ps)):
                for c, v in (("red", r), ("green", g), ("blue", b)):
                    out[c].append((0.5 * (shift + p), v, v))
    return out


ROY_BIG_BL = [(255, 255, 0), (255, 200, 0), (255, 120, 0), (255, 0, 0), (200, 0, 0), (150, 0, 0), (100, 0, 0),
              (60, 0, 0), (0, 0, 0), (0, 0, 80), (0, 0, 170), (75, 0, 125), (125, 0, 160), (75, 125, 0),
              (0, 200, 0), (0, 255, 0), (0, 255, 255), (0, 255, 255)][::-1]
VIDEEN_STYLE = ["#000000", "#bbbbbb", "#dddddd", "#ffffff", "#ff388d", "#e251e2", "#10b010", "#00ff00", "#00ffff",
                "#000000", "#660033", "#33334c", "#4c4c7f", "#7f7fcc", "#00ff00", "#10b010", "#ffff00", "#ff9900",
                "#ff6900", "#ff0000"]

NILEARN_SEGMENTS = {
    "cold_hot": lambda: pigtailed("hot"),
    "cold_white_hot": lambda: pigtailed("hot_r"),
    "brown_blue": lambda: pigtailed("bone"),
    "cyan_copper": lambda: pigtailed("copper"),
    "cyan_orange": lambda: pigtailed("YlOrBr_r"),
    "blue_red": lambda: pigtailed("Reds_r"),
    "brown_cyan": lambda: pigtailed("Blues_r"),
    "purple_green": lambda: pigtailed("Greens_r", ("red", "blue", "green")),
    "purple_blue": lambda: pigtailed("Blues_r", ("red", "blue", "green")),
    "blue_orange": lambda: pigtailed("Oranges_r", ("green", "red", "blue")),
    "black_blue": lambda: rotated("hot"),
    "black_purple": lambda: rotated("hot", ("blue", "red", "green")),
    "black_pink": lambda: rotated("hot", ("blue", "green", "red")),
    "black_green": lambda: rotated("hot", ("red", "blue", "green")),
    "black_red": lambda: dict(_seg("hot")),
    "ocean_hot": lambda: concatenated("ocean", "hot_r"),
    "hot_white_bone": lambda: concatenated("afmhot", "bone_r"),
    "hot_black_bone": lambda: concatenated("afmhot_r", "bone"),
}


def nilearn_cmap(name):
    if name in NILEARN_SEGMENTS:
        return colors.LinearSegmentedColormap(name, NILEARN_SEGMENTS[name](), N)
    if name == "roy_big_bl":
        return colors.LinearSegmentedColormap.from_list(name, (np.array(ROY_BIG_BL) / 255).tolist())
    if name == "videen_style":
        return colors.LinearSegmentedColormap.from_list(name, VIDEEN_STYLE)
    return None


def colorcet_fire():
    """colorcet's "fire" (linear_kryw_0_100_c71, CC-BY 4.0, Peter Kovesi): what upstream TRIBE's
    get_cmap("fire") returns (matplotlib.cm and seaborn have no "fire"; colorcet does)."""
    import colorcet  # Debian: python3-colorcet (only needed to regenerate the tables)
    return colorcet.cm.fire


def table(name):
    cmap = nilearn_cmap(name)
    if cmap is None:
        cmap = colorcet_fire() if name == "fire" else matplotlib.colormaps[name]
    assert cmap.N == N, (name, cmap.N)
    cmap._init()
    return cmap._lut[:N, :3]


NAMES = ["RdBu", "coolwarm", "bwr", "seismic", "hot", "viridis", "plasma", "inferno", "gray", "fire"] + list(
    NILEARN_SEGMENTS) + ["roy_big_bl", "videen_style"]


def check_reversal():
    """Our "_r" reads a table backwards; nilearn builds its "_r" maps from reversed segment data.
    Both must give the same 256 entries (asserted, so a regeneration cannot silently differ)."""
    for name in NILEARN_SEGMENTS:
        seg = NILEARN_SEGMENTS[name]()
        rev = {k: [(1.0 - x, y1, y0) for x, y0, y1 in reversed(v)] for k, v in seg.items()}
        r = colors.LinearSegmentedColormap(name + "_r", rev, N)
        r._init()
        diff = np.abs(r._lut[:N, :3] - table(name)[::-1]).max()
        assert diff < 1e-6, (name, diff)


def main():
    check_reversal()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "colormap_data.cpp")
    lines = [
        "// GENERATED by src/viz/tools/gen_colormap_data.py from matplotlib " + matplotlib.__version__ + "; do not edit.",
        "// Colormap lookup tables (256 RGB entries each, float32 of matplotlib's float64 values).",
        "// Data attribution: matplotlib colormaps (Matplotlib license, matplotlib.org); viridis, plasma",
        "// and inferno by Nathaniel J. Smith, Stefan van der Walt and Eric Firing (CC0); RdBu from",
        "// ColorBrewer (Cynthia Brewer, Apache-2.0 style license); cold_hot, cold_white_hot, black_*, ...,",
        "// roy_big_bl and videen_style are nilearn's colormaps (BSD-3-Clause) rebuilt from their rules on",
        "// matplotlib's maps; fire is colorcet's linear_kryw_0_100_c71 (Peter Kovesi, CC-BY 4.0).",
        '#include "colormap_data.hpp"',
        "",
        "namespace tribev2::viz::detail {",
        "",
    ]
    for name in NAMES:
        lut = table(name)
        lines.append(f"static const float k_{name}[{N * 3}] = {{")
        for i in range(N):
            lines.append("  " + " ".join("%.9ef," % np.float32(v) for v in lut[i]))
        lines.append("};")
        lines.append("")
    lines.append("const ColormapTable kColormapTables[] = {")
    for name in NAMES:
        lines.append(f'  {{"{name}", k_{name}}},')
    lines.append("};")
    lines.append("const int kColormapTableCount = sizeof(kColormapTables) / sizeof(kColormapTables[0]);")
    lines.append("")
    lines.append("}  // namespace tribev2::viz::detail")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", out, file=sys.stderr)


if __name__ == "__main__":
    main()
