// Internal to the figure: region outlines (vertices on a region boundary take the line colour)
// and region names placed at the most central visible vertex of each named region, per panel.
#pragma once

#include <cairo.h>

#include <array>
#include <optional>
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
// A name's box as the layout sees it: wanted centre (the anchor) and size, in panel pixels.
struct LabelBox {
  double cx = 0, cy = 0, w = 0, h = 0;
};
// Where each name goes so that no two boxes overlap (with `gap` pixels between them) and each
// lies inside the width x height panel: its anchor when that is free, else the nearest free
// centre on rings around the anchor (radius steps of half a box height, 24 directions, up to
// `max_radius`). Boxes are placed in order; one with no room is std::nullopt (left out rather
// than drawn over another name).
std::vector<std::optional<std::array<double, 2>>> place_labels(std::span<const LabelBox> boxes, double width,
                                                               double height, double max_radius, double gap = 2.0);
// Draws the names of one panel (origin (x0, y0), size w x h), dark text on a light halo, `px`
// pixels high, laid out by place_labels; a name moved off its region gets a thin leader line
// to a dot on the region.
void draw_names(cairo_t* cr, std::span<const NameAnchor> names, double x0, double y0, double w, double h, double px,
                const char* font);

}  // namespace tribev2::viz::detail
