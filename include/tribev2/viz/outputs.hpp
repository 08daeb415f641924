// Standard files for predictions: GIFTI time series per hemisphere (BIDS-like names) and
// single maps as .shape.gii, readable by nibabel, Connectome Workbench, FreeSurfer and AFNI.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/viz/gifti.hpp"

namespace tribev2::viz {

// Checks that a prediction array is float [n_rows, 20484] or [20484] and returns it as float32
// [n_rows, 20484].
Tensor as_prediction_rows(const Tensor& t, const std::string& name);

struct TimeSeriesOptions {
  double tr_s = 1.0;
  GiftiEncoding encoding = GiftiEncoding::GZipBase64Binary;
  std::vector<double> row_times;  // start of each row (s), stored as each array's name; empty: i * TR
};

// Writes <dir>/<stem>_hemi-L_space-fsaverage5_bold.func.gii and ..._hemi-R_... with one
// NIFTI_INTENT_TIME_SERIES float32 DataArray of 10,242 values per row and TimeStep = TR in the
// metadata. Returns the two paths.
std::vector<std::filesystem::path> write_time_series_gifti(const Tensor& preds, const std::filesystem::path& dir,
                                                           const std::string& stem, const TimeSeriesOptions& options);

// Writes one map ([20484]) as <dir>/<stem>_hemi-L_space-fsaverage5.shape.gii and _hemi-R_.
std::vector<std::filesystem::path> write_map_gifti(std::span<const float> map, const std::filesystem::path& dir,
                                                   const std::string& stem, const std::string& description,
                                                   GiftiEncoding encoding = GiftiEncoding::GZipBase64Binary);

// Mean and standard deviation over rows of [n_rows, n] data (population std, ddof = 0).
std::vector<float> row_mean(const Tensor& rows);
std::vector<float> row_std(const Tensor& rows);

// The start time of each row: from a segments.json written by predict/demo (its "rows"), or
// i seconds when `path` is empty or absent. Checks the count against n_rows.
std::vector<double> read_row_times(const std::filesystem::path& segments_json, std::int64_t n_rows);

// The default figure set written by `tribev2 predict --plot DIR`: mean.png and std.png
// (4-panel, half-inflated, RdBu_r / viridis), timesteps.png (up to 8 evenly spaced rows) and
// the GIFTI time series. `mesh_dir` empty: the default mesh folder. Returns the files written.
std::vector<std::filesystem::path> write_default_figures(const Context& ctx, const Tensor& preds,
                                                         std::span<const double> row_times,
                                                         const std::filesystem::path& dir,
                                                         const std::string& mesh_dir = "");
// Fails early (before a long prediction) when the meshes for the default figures are missing.
void check_default_figures(const std::string& mesh_dir = "");

}  // namespace tribev2::viz
