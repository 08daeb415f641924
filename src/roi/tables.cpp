#include "tribev2/roi/tables.hpp"

#include <cmath>
#include <cstdio>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::roi {

namespace fs = std::filesystem;

namespace {
std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}
}  // namespace

RoiTables roi_tables(const Atlas& atlas, const Tensor& rows, const RoiTableOptions& o) {
  TRIBEV2_CHECK(rows.dtype() == DType::F32 && rows.ndim() == 2 && rows.dim(1) == viz::kFsaverage5Outputs,
                "ROI tables: expected float32 predictions [n_rows, ", viz::kFsaverage5Outputs, "]");
  const std::int64_t n = rows.dim(0);
  const Summarizer s(atlas, o.hemi);
  std::vector<std::int64_t> sel = o.rows;
  if (sel.empty())
    for (std::int64_t r = 0; r < n; ++r) sel.push_back(r);
  const auto width = static_cast<std::size_t>(viz::kFsaverage5Outputs);
  RoiTables t;
  t.summary_tsv = "row\ttime_s";
  for (const auto& name : s.names()) t.summary_tsv.append("\t").append(name);
  t.summary_tsv += "\n";
  t.topk_tsv = "row\ttime_s";
  for (int k = 1; k <= o.top_k; ++k) t.topk_tsv.append("\ttop").append(std::to_string(k));
  t.topk_tsv += "\n";
  auto add = [&](const std::string& label, const std::string& time, const std::vector<double>& v) {
    t.summary_tsv.append(label).append("\t").append(time);
    for (const double x : v) t.summary_tsv.append("\t").append(num(x));
    t.summary_tsv.append("\n");
    t.topk_tsv.append(label).append("\t").append(time);
    for (const auto& name : topk_names(s.names(), v, o.top_k)) t.topk_tsv.append("\t").append(name);
    t.topk_tsv.append("\n");
  };
  for (const std::int64_t r : sel) {
    TRIBEV2_CHECK(r >= 0 && r < n, "ROI tables: row ", r, " is out of range (", n, " rows)");
    const auto v = s.summarize(rows.f32().subspan(static_cast<std::size_t>(r) * width, width));
    const std::string time = static_cast<std::size_t>(r) < o.row_times.size() ? num(o.row_times[static_cast<std::size_t>(r)]) : "";
    add(std::to_string(r), time, v);
  }
  if (o.mean_line && n > 0) {
    // The mean map over all rows (as upstream's plots of preds.mean(0)), then its ROI means.
    std::vector<double> acc(width, 0.0);
    for (std::int64_t r = 0; r < n; ++r) {
      const float* p = rows.data<float>() + static_cast<std::size_t>(r) * width;
      for (std::size_t i = 0; i < width; ++i) acc[i] += p[i];
    }
    std::vector<float> mean(width);
    for (std::size_t i = 0; i < width; ++i) mean[i] = static_cast<float>(acc[i] / static_cast<double>(n));
    add("mean", "", s.summarize(mean));
  }
  return t;
}

fs::path write_roi_tables(const Atlas& atlas, const Tensor& rows, const RoiTableOptions& o, const fs::path& summary_path) {
  const RoiTables t = roi_tables(atlas, rows, o);
  const fs::path top = summary_path.parent_path() / (summary_path.stem().string() + "_top" + std::to_string(o.top_k) + ".tsv");
  auto bytes = [](const std::string& s) { return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size()); };
  io::write_file_atomic(summary_path, bytes(t.summary_tsv));
  io::write_file_atomic(top, bytes(t.topk_tsv));
  return top;
}

}  // namespace tribev2::roi
