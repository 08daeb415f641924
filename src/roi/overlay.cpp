#include "tribev2/roi/overlay.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::roi {

VertexRegions vertex_regions(const Atlas& atlas) {
  VertexRegions out;
  out.region.assign(static_cast<std::size_t>(viz::kFsaverage5Outputs), -1);
  for (const auto* side : {&atlas.left, &atlas.right})
    for (const auto& r : *side) {
      const auto i = static_cast<std::int32_t>(out.names.size());
      out.names.push_back(r.name);
      for (const std::int32_t v : r.vertices)
        if (v >= 0 && v < viz::kFsaverage5Outputs) out.region[static_cast<std::size_t>(v)] = i;
    }
  return out;
}

viz::RoiOverlay make_overlay(const Atlas& atlas, std::span<const std::string> annotate, bool outline_all) {
  viz::RoiOverlay ov;
  ov.outline_all = outline_all;
  VertexRegions vr = vertex_regions(atlas);
  ov.region = std::move(vr.region);
  for (const auto& pat : annotate) {
    bool any = false;
    for (std::size_t i = 0; i < vr.names.size(); ++i) {
      const std::string& key = vr.names[i];
      const bool hit = pat.empty()            ? false
                       : pat.back() == '*'    ? key.starts_with(std::string_view(pat).substr(0, pat.size() - 1))
                       : pat.front() == '*'   ? key.ends_with(std::string_view(pat).substr(1))
                                              : key == pat;
      if (!hit) continue;
      any = true;
      ov.names.emplace_back(static_cast<std::int32_t>(i), key);
    }
    if (!any) fail("--annotate-rois: ROI ", pat, " not found in the ", atlas.name, " labels");
  }
  return ov;
}

std::optional<viz::RoiOverlay> overlay_for(const std::string& outline_spec, const std::string& annotate_spec,
                                           std::span<const std::string> annotate, const std::filesystem::path& data_dir) {
  if (outline_spec.empty() && annotate.empty()) return std::nullopt;
  const std::string& spec = outline_spec.empty() ? annotate_spec : outline_spec;
  return make_overlay(load_atlas(spec, data_dir), annotate, !outline_spec.empty());
}

}  // namespace tribev2::roi
