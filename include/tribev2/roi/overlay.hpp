// Region outlines and names for figures: an Atlas turned into the viz layer's RoiOverlay.
#pragma once

#include <span>
#include <string>

#include "tribev2/roi/atlas.hpp"
#include "tribev2/viz/figure.hpp"

namespace tribev2::roi {

// `annotate`: ROI names or get_hcp_roi_indices-style patterns ("V1", "V*", "*_v") whose regions
// are outlined and named (in both hemispheres); `outline_all`: outline every region of the atlas.
// A pattern matching nothing is an error.
viz::RoiOverlay make_overlay(const Atlas& atlas, std::span<const std::string> annotate, bool outline_all);

// Every region of the atlas, left then right (the numbering make_overlay uses), and each output
// vertex's region (20,484; -1 for none): what the browser viewer names on a click.
struct VertexRegions {
  std::vector<std::string> names;
  std::vector<std::int32_t> region;
};
VertexRegions vertex_regions(const Atlas& atlas);

}  // namespace tribev2::roi
