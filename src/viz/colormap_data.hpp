// The generated colormap lookup tables (see tools/gen_colormap_data.py).
#pragma once

namespace tribev2::viz::detail {

struct ColormapTable {
  const char* name;
  const float* rgb;  // 256 entries x (r, g, b) in [0, 1]
};

extern const ColormapTable kColormapTables[];
extern const int kColormapTableCount;

}  // namespace tribev2::viz::detail
