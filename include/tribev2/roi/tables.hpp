// The ROI tables `tribev2 roi` and `tribev2 run` write: summaries (one line per selected row
// plus one for the mean map, one column per ROI) and a top-k table (the k ROIs with the largest
// mean, largest first, per line).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/roi/summary.hpp"

namespace tribev2::roi {

struct RoiTableOptions {
  HemiSel hemi = HemiSel::Both;
  int top_k = 10;
  std::vector<std::int64_t> rows;  // rows to list; empty: all
  std::vector<double> row_times;   // seconds per row of the input (empty: row index)
  bool mean_line = true;           // add the mean map's line (label "mean")
};

struct RoiTables {
  std::string summary_tsv;  // "row\ttime_s\t<roi>..." lines
  std::string topk_tsv;     // "row\ttime_s\ttop1\t...\ttopK"
};

// `rows`: predictions [n_rows, 20484] (float32).
RoiTables roi_tables(const Atlas& atlas, const Tensor& rows, const RoiTableOptions& options);
// Writes both tables atomically: `summary_path` and, next to it, <stem>_top<k>.tsv; returns the
// second path.
std::filesystem::path write_roi_tables(const Atlas& atlas, const Tensor& rows, const RoiTableOptions& options,
                                       const std::filesystem::path& summary_path);

}  // namespace tribev2::roi
