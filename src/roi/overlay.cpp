#include "tribev2/roi/overlay.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::roi {

viz::RoiOverlay make_overlay(const Atlas& atlas, std::span<const std::string> annotate, bool outline_all) {
  viz::RoiOverlay ov;
  ov.outline_all = outline_all;
  ov.region.assign(static_cast<std::size_t>(viz::kFsaverage5Outputs), -1);
  std::vector<const Region*> all;
  for (const auto& r : atlas.left) all.push_back(&r);
  for (const auto& r : atlas.right) all.push_back(&r);
  for (std::size_t i = 0; i < all.size(); ++i)
    for (const std::int32_t v : all[i]->vertices)
      if (v >= 0 && v < viz::kFsaverage5Outputs) ov.region[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(i);
  for (const auto& pat : annotate) {
    bool any = false;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::string& key = all[i]->name;
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

}  // namespace tribev2::roi
