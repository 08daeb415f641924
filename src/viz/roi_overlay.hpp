// Internal to the figure: region outlines (vertices on a region boundary take the line colour)
// and region names placed at the most central visible vertex of each named region, per panel.
#pragma once

#include <cairo.h>

#include <array>
#include <span>
#include <string>
#include <vector>

#include "tribev2/viz/figure.hpp"

namespace tribev2::viz::detail {

using HemiEdges = std::array<std::vector<char>, 2>;

// Per hemisphere, 1 for the vertices drawn as outline.
HemiEdges overlay_edges(const RoiOverlay& overlay, const BrainSurface& surface);
// Paints the outline vertices of `edges` into per-hemisphere colours.
void apply_outline(const HemiEdges& edges, const Rgb& line, std::array<std::vector<Rgb>, 2>& colors);

struct NameAnchor {
  float x = 0, y = 0;  // pixels in the panel
  std::string text;
};
// Names of the overlay's regions visible in a panel showing `hemis` through `camera`.
std::vector<NameAnchor> overlay_names(const RoiOverlay& overlay, const BrainSurface& surface,
                                      const std::vector<float> (&normals)[2], const int (&winding)[2],
                                      HemiSet hemis, std::span<const RenderItem> items, const Camera& camera,
                                      const RenderOptions& options);
// Draws the names at (x0, y0) + anchor, dark text on a light halo, `px` pixels high.
void draw_names(cairo_t* cr, std::span<const NameAnchor> names, double x0, double y0, double px, const char* font);

}  // namespace tribev2::viz::detail
