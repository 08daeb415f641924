// Region outlines and names for figures: an Atlas turned into the viz layer's RoiOverlay.
#pragma once

#include <filesystem>
#include <optional>
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

// The figures' options (`plot --roi-outline SPEC --annotate-rois ... --roi-atlas SPEC`, Python's
// roi_outline / annotated_rois / roi_atlas): every region of `outline_spec` outlined when it is
// given, the `annotate` regions of it (else of `annotate_spec`) outlined and named; atlases read
// from `data_dir`. nullopt when neither outlines nor names are asked for.
std::optional<viz::RoiOverlay> overlay_for(const std::string& outline_spec, const std::string& annotate_spec,
                                           std::span<const std::string> annotate, const std::filesystem::path& data_dir);

}  // namespace tribev2::roi
