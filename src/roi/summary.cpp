#include "tribev2/roi/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::roi {

HemiSel parse_hemi(std::string_view t) {
  if (t == "left") return HemiSel::Left;
  if (t == "right") return HemiSel::Right;
  if (t == "both") return HemiSel::Both;
  if (t == "both_separate") return HemiSel::BothSeparate;
  fail("--hemi '", t, "': expected left | right | both | both_separate");
}

const char* hemi_sel_name(HemiSel h) {
  switch (h) {
    case HemiSel::Left: return "left";
    case HemiSel::Right: return "right";
    case HemiSel::Both: return "both";
    case HemiSel::BothSeparate: return "both_separate";
  }
  return "?";
}

std::vector<Region> labels(const Atlas& atlas, HemiSel hemi) {
  switch (hemi) {
    case HemiSel::Left: return atlas.left;
    case HemiSel::Right: return atlas.right;
    case HemiSel::Both: {
      std::vector<Region> out;
      out.reserve(atlas.left.size());
      for (const auto& l : atlas.left) {
        const auto it = std::find_if(atlas.right.begin(), atlas.right.end(), [&](const Region& r) { return r.name == l.name; });
        if (it == atlas.right.end()) fail("atlas ", atlas.name, ": region '", l.name, "' has no right-hemisphere part (hemi both)");
        Region r{l.name, l.vertices};
        r.vertices.insert(r.vertices.end(), it->vertices.begin(), it->vertices.end());
        out.push_back(std::move(r));
      }
      return out;
    }
    case HemiSel::BothSeparate: break;
  }
  fail("atlas labels: hemi both_separate is only for summaries (use left, right or both)");
}

namespace {
bool matches(const std::string& key, std::string_view roi) {
  if (roi.empty()) return false;
  if (roi.back() == '*') return key.starts_with(roi.substr(0, roi.size() - 1));
  if (roi.front() == '*') return key.ends_with(roi.substr(1));
  return key == roi;
}
}  // namespace

std::vector<std::int32_t> roi_indices(const Atlas& atlas, std::span<const std::string> rois, HemiSel hemi) {
  const auto regions = labels(atlas, hemi);
  std::vector<std::int32_t> out;
  for (const auto& roi : rois) {
    bool any = false;
    for (const auto& r : regions) {
      if (!matches(r.name, roi)) continue;
      any = true;
      out.insert(out.end(), r.vertices.begin(), r.vertices.end());
    }
    if (!any) fail("ROI ", roi, " not found in the ", atlas.name, " labels (", hemi_sel_name(hemi), ")");
  }
  return out;
}

std::vector<std::string> summary_names(const Atlas& atlas, HemiSel hemi) {
  std::vector<std::string> out;
  if (hemi == HemiSel::BothSeparate) {
    for (const auto& r : atlas.left) out.push_back(r.name + "-lh");
    for (const auto& r : atlas.right) out.push_back(r.name + "-rh");
    return out;
  }
  for (const auto& r : labels(atlas, hemi)) out.push_back(r.name);
  return out;
}

Summarizer::Summarizer(const Atlas& atlas, HemiSel hemi) : names_(summary_names(atlas, hemi)) {
  // summarize_by_roi looks every key up again through get_hcp_roi_indices(key): the same
  // selection rule, kept so that a key that looks like a wildcard behaves as upstream's.
  auto add = [&](HemiSel h) {
    for (const auto& r : labels(atlas, h)) {
      const std::string key[] = {r.name};
      indices_.push_back(roi_indices(atlas, key, h));
    }
  };
  if (hemi == HemiSel::BothSeparate) {
    add(HemiSel::Left);
    add(HemiSel::Right);
  } else {
    add(hemi);
  }
}

std::vector<double> Summarizer::summarize(std::span<const float> map) const {
  TRIBEV2_CHECK(static_cast<std::int64_t>(map.size()) == viz::kFsaverage5Outputs, "ROI summary: the map has ", map.size(),
                " values, expected ", viz::kFsaverage5Outputs, " (fsaverage5, left then right)");
  std::vector<double> out(indices_.size());
  for (std::size_t i = 0; i < indices_.size(); ++i) {
    const auto& idx = indices_[i];
    if (idx.empty()) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    double s = 0.0;
    for (const std::int32_t v : idx) s += map[static_cast<std::size_t>(v)];
    out[i] = s / static_cast<double>(idx.size());
  }
  return out;
}

std::vector<std::vector<double>> Summarizer::summarize_rows(std::span<const float> rows, std::int64_t n_rows) const {
  const auto width = static_cast<std::size_t>(viz::kFsaverage5Outputs);
  TRIBEV2_CHECK(n_rows >= 0 && rows.size() == static_cast<std::size_t>(n_rows) * width, "ROI summary: ", rows.size(),
                " values are not ", n_rows, " rows of ", width);
  std::vector<std::vector<double>> out;
  out.reserve(static_cast<std::size_t>(n_rows));
  for (std::int64_t r = 0; r < n_rows; ++r) out.push_back(summarize(rows.subspan(static_cast<std::size_t>(r) * width, width)));
  return out;
}

std::vector<double> summarize_by_roi(const Atlas& atlas, std::span<const float> map, HemiSel hemi) {
  return Summarizer(atlas, hemi).summarize(map);
}

std::vector<std::string> topk_names(std::span<const std::string> names, std::span<const double> values, int k) {
  TRIBEV2_CHECK(names.size() == values.size(), "top-k: ", names.size(), " names for ", values.size(), " values");
  TRIBEV2_CHECK(k >= 0, "top-k: k = ", k, " is negative");
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Ascending with NaN last (numpy's argsort), then reversed.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double x = values[a], y = values[b];
    if (std::isnan(x)) return false;
    if (std::isnan(y)) return true;
    return x < y;
  });
  std::reverse(order.begin(), order.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < order.size() && static_cast<int>(i) < k; ++i) out.push_back(names[order[i]]);
  return out;
}

std::vector<std::string> get_topk_rois(const Atlas& atlas, std::span<const float> map, HemiSel hemi, int k) {
  const Summarizer s(atlas, hemi);
  const auto v = s.summarize(map);
  return topk_names(s.names(), v, k);
}

}  // namespace tribev2::roi
