// Upstream's ROI helpers (tribev2/utils.py) over an Atlas: get_hcp_labels, get_hcp_roi_indices
// (with "V1*" prefix and "*_v" suffix wildcards), summarize_by_roi (the mean of each region) and
// get_topk_rois, for one map or for every row of a time series.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/roi/atlas.hpp"

namespace tribev2::roi {

enum class HemiSel { Left, Right, Both, BothSeparate };
HemiSel parse_hemi(std::string_view text);  // left | right | both | both_separate
const char* hemi_sel_name(HemiSel h);

// get_hcp_labels(hemi): left or right regions, or for both each left key with its left then
// right vertices (a key missing on the right is an error, as upstream's KeyError).
// BothSeparate is not a get_hcp_labels choice and is refused.
std::vector<Region> labels(const Atlas& atlas, HemiSel hemi);

// get_hcp_roi_indices: for each pattern, the keys equal to it, starting with it ("V1*") or
// ending with it ("*_v"), in key order; their vertices concatenated. No match is an error.
std::vector<std::int32_t> roi_indices(const Atlas& atlas, std::span<const std::string> rois, HemiSel hemi);

// The column names of summarize(): the keys, or for BothSeparate "<key>-lh" then "<key>-rh".
std::vector<std::string> summary_names(const Atlas& atlas, HemiSel hemi);

// Precomputed summarize_by_roi for one atlas and hemisphere choice.
class Summarizer {
 public:
  Summarizer(const Atlas& atlas, HemiSel hemi);
  const std::vector<std::string>& names() const { return names_; }
  // The mean over each region's vertices of `map` (20,484 values); NaN for an empty region
  // (numpy's mean of nothing). Sums in double.
  std::vector<double> summarize(std::span<const float> map) const;
  // One row of summaries per row of `rows` ([n_rows, 20484], row-major).
  std::vector<std::vector<double>> summarize_rows(std::span<const float> rows, std::int64_t n_rows) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::int32_t>> indices_;
};

std::vector<double> summarize_by_roi(const Atlas& atlas, std::span<const float> map, HemiSel hemi);

// get_topk_rois: the names of the k largest summaries, largest first (numpy's
// argsort(values)[::-1][:k]: NaN sorts as the largest; among equal values the later column first).
std::vector<std::string> topk_names(std::span<const std::string> names, std::span<const double> values, int k);
std::vector<std::string> get_topk_rois(const Atlas& atlas, std::span<const float> map, HemiSel hemi, int k);

}  // namespace tribev2::roi
