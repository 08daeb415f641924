#include "tribev2/viz/outputs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;

namespace {
const char* structure(Hemi h) { return h == Hemi::Left ? "CortexLeft" : "CortexRight"; }
const char* bids_hemi(Hemi h) { return h == Hemi::Left ? "L" : "R"; }

std::string fmt_double(double v) {
  char b[40];
  std::snprintf(b, sizeof(b), "%.6f", v);
  return b;
}

void check_stem(const std::string& stem) {
  TRIBEV2_CHECK(!stem.empty() && stem.find('/') == std::string::npos, "output name stem must be a plain file name, got '",
                stem, "'");
}
}  // namespace

Tensor as_prediction_rows(const Tensor& t, const std::string& name) {
  TRIBEV2_CHECK(dtype_is_float(t.dtype()), name, ": predictions must be a float array, got ", dtype_name(t.dtype()));
  TRIBEV2_CHECK(t.ndim() == 1 || t.ndim() == 2, name, ": predictions must be [n_rows, ", kFsaverage5Outputs, "] or [",
                kFsaverage5Outputs, "], got ", shape_str(t.shape()));
  TRIBEV2_CHECK(t.dim(-1) == kFsaverage5Outputs, name, ": the last dimension must be ", kFsaverage5Outputs,
                " (fsaverage5: 10,242 left then 10,242 right vertices), got ", shape_str(t.shape()));
  const std::int64_t rows = t.ndim() == 2 ? t.dim(0) : 1;
  TRIBEV2_CHECK(rows >= 1, name, ": no rows");
  return t.to_f32().reshape({rows, kFsaverage5Outputs});
}

std::vector<fs::path> write_time_series_gifti(const Tensor& preds, const fs::path& dir, const std::string& stem,
                                              const TimeSeriesOptions& o) {
  check_stem(stem);
  const Tensor rows = as_prediction_rows(preds, "predictions");
  const std::int64_t n = rows.dim(0);
  TRIBEV2_CHECK(o.tr_s > 0 && std::isfinite(o.tr_s), "TR must be positive, got ", o.tr_s);
  TRIBEV2_CHECK(o.row_times.empty() || static_cast<std::int64_t>(o.row_times.size()) == n, o.row_times.size(),
                " row times for ", n, " rows");
  const float* p = rows.data<float>();
  std::vector<fs::path> out;
  for (Hemi h : {Hemi::Left, Hemi::Right}) {
    GiftiImage img;
    img.meta = {{"AnatomicalStructurePrimary", structure(h)},
                {"TimeStep", fmt_double(o.tr_s)},
                {"TimeStepUnits", "seconds"},
                {"Description", "TRIBE v2 predicted BOLD response on fsaverage5; one DataArray per TR"},
                {"generator", "tribev2-cpp"}};
    const std::size_t off = h == Hemi::Left ? 0 : static_cast<std::size_t>(kFsaverage5Vertices);
    for (std::int64_t r = 0; r < n; ++r) {
      GiftiDataArray a;
      a.intent = "NIFTI_INTENT_TIME_SERIES";
      a.data_type = "NIFTI_TYPE_FLOAT32";
      a.dims = {kFsaverage5Vertices};
      const float* row = p + static_cast<std::size_t>(r) * static_cast<std::size_t>(kFsaverage5Outputs) + off;
      a.floats.assign(row, row + kFsaverage5Vertices);
      const double t = o.row_times.empty() ? static_cast<double>(r) * o.tr_s : o.row_times[static_cast<std::size_t>(r)];
      a.meta = {{"Name", "t=" + fmt_double(t)}, {"TimeStep", fmt_double(o.tr_s)}};
      img.arrays.push_back(std::move(a));
    }
    const fs::path path = dir / (stem + "_hemi-" + bids_hemi(h) + "_space-fsaverage5_bold.func.gii");
    write_gifti(path, img, o.encoding);
    out.push_back(path);
  }
  return out;
}

std::vector<fs::path> write_map_gifti(std::span<const float> map, const fs::path& dir, const std::string& stem,
                                      const std::string& description, GiftiEncoding encoding) {
  check_stem(stem);
  std::vector<fs::path> out;
  for (Hemi h : {Hemi::Left, Hemi::Right}) {
    const auto values = hemi_values(map, h);
    GiftiImage img;
    img.meta = {{"AnatomicalStructurePrimary", structure(h)}, {"Description", description}, {"generator", "tribev2-cpp"}};
    GiftiDataArray a;
    a.intent = "NIFTI_INTENT_SHAPE";
    a.data_type = "NIFTI_TYPE_FLOAT32";
    a.dims = {kFsaverage5Vertices};
    a.floats.assign(values.begin(), values.end());
    a.meta = {{"Name", description}};
    img.arrays.push_back(std::move(a));
    const fs::path path = dir / (stem + "_hemi-" + bids_hemi(h) + "_space-fsaverage5.shape.gii");
    write_gifti(path, img, encoding);
    out.push_back(path);
  }
  return out;
}

std::vector<float> row_mean(const Tensor& rows) {
  TRIBEV2_CHECK(rows.ndim() == 2 && rows.dim(0) > 0, "row_mean: expected [n_rows, n], got ", shape_str(rows.shape()));
  const auto n = static_cast<std::size_t>(rows.dim(0)), m = static_cast<std::size_t>(rows.dim(1));
  const float* p = rows.data<float>();
  std::vector<double> acc(m, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < m; ++j) acc[j] += p[r * m + j];
  std::vector<float> out(m);
  for (std::size_t j = 0; j < m; ++j) out[j] = static_cast<float>(acc[j] / static_cast<double>(n));
  return out;
}

std::vector<float> row_std(const Tensor& rows) {
  const auto mean = row_mean(rows);
  const auto n = static_cast<std::size_t>(rows.dim(0)), m = static_cast<std::size_t>(rows.dim(1));
  const float* p = rows.data<float>();
  std::vector<double> acc(m, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < m; ++j) {
      const double d = static_cast<double>(p[r * m + j]) - mean[j];
      acc[j] += d * d;
    }
  std::vector<float> out(m);
  for (std::size_t j = 0; j < m; ++j) out[j] = static_cast<float>(std::sqrt(acc[j] / static_cast<double>(n)));
  return out;
}

std::vector<double> read_row_times(const fs::path& segments_json, std::int64_t n_rows) {
  std::vector<double> t;
  if (segments_json.empty() || !fs::exists(segments_json)) {
    for (std::int64_t i = 0; i < n_rows; ++i) t.push_back(static_cast<double>(i));
    return t;
  }
  const nlohmann::json j = io::read_json_object(segments_json);
  try {
    for (const auto& r : j.at("rows")) t.push_back(r.at("start").get<double>());
  } catch (const nlohmann::json::exception& e) {
    fail(segments_json.string(), ": cannot read row times (expected {\"rows\": [{\"start\": ...}, ...]}): ", e.what());
  }
  TRIBEV2_CHECK(static_cast<std::int64_t>(t.size()) == n_rows, segments_json.string(), ": ", t.size(),
                " rows, but the predictions have ", n_rows, " (pass the matching segments file)");
  return t;
}

namespace {
SurfaceOptions default_surface() { return {}; }
}  // namespace

void check_default_figures(const std::string& mesh_dir) { check_fsaverage5(resolve_mesh_dir(mesh_dir), default_surface()); }

std::vector<fs::path> write_default_figures(const Context& ctx, const Tensor& preds, std::span<const double> row_times,
                                            const fs::path& dir, const std::string& mesh_dir) {
  const Tensor rows = as_prediction_rows(preds, "predictions");
  const std::int64_t n = rows.dim(0);
  TRIBEV2_CHECK(row_times.empty() || static_cast<std::int64_t>(row_times.size()) == n, row_times.size(), " row times for ",
                n, " rows");
  const BrainSurface surf = load_fsaverage5(resolve_mesh_dir(mesh_dir), default_surface());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create ", dir.string(), ": ", ec.message());
  std::vector<fs::path> written;

  FigureOptions base;  // 4 panels, half-inflated, nilearn colours
  base.dpi = 100;
  const auto mean = row_mean(rows);
  {
    FigureOptions o = base;
    o.title = "Mean predicted response over " + std::to_string(n) + " TR" + (n == 1 ? "" : "s");
    o.colorbar_label = "predicted BOLD (a.u.)";
    const MapFrame f{mean, ""};
    plot_maps(ctx, surf, std::span(&f, 1), o, dir / "mean.png");
    written.push_back(dir / "mean.png");
  }
  if (n > 1) {
    FigureOptions o = base;
    o.cmap = "viridis";
    o.title = "Standard deviation over time";
    o.colorbar_label = "std (a.u.)";
    const auto sd = row_std(rows);
    const MapFrame f{sd, ""};
    plot_maps(ctx, surf, std::span(&f, 1), o, dir / "std.png");
    written.push_back(dir / "std.png");
  }
  {
    // Up to 8 evenly spaced rows, left lateral view, one colour scale (robust: 99th percentile).
    const std::int64_t k = std::min<std::int64_t>(8, n);
    std::vector<MapFrame> frames;
    const float* p = rows.data<float>();
    for (std::int64_t i = 0; i < k; ++i) {
      const std::int64_t r = k == 1 ? 0 : i * (n - 1) / (k - 1);
      const double t = row_times.empty() ? static_cast<double>(r) : row_times[static_cast<std::size_t>(r)];
      frames.push_back({std::span(p + static_cast<std::size_t>(r) * static_cast<std::size_t>(kFsaverage5Outputs),
                                  static_cast<std::size_t>(kFsaverage5Outputs)),
                        time_label(t)});
    }
    FigureOptions o = base;
    o.layout = Layout::Single;
    o.view = View::Lateral;
    o.hemi = HemiSet::Left;
    o.columns = 4;
    o.panel_width_in = 2.0;
    o.limits.percentile = 99.0;
    o.title = "Predicted response, left hemisphere (lateral)";
    plot_maps(ctx, surf, frames, o, dir / "timesteps.png");
    written.push_back(dir / "timesteps.png");
  }
  TimeSeriesOptions ts;
  ts.row_times.assign(row_times.begin(), row_times.end());
  for (const auto& p : write_time_series_gifti(rows, dir, "preds", ts)) written.push_back(p);
  return written;
}

}  // namespace tribev2::viz
