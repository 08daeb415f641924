// Whole-stimulus prediction as upstream TribeModel.predict does it: the 2 Hz feature time
// series are cut into segments of duration_trs TRs (100 s = 200 steps) from the timeline
// start, the last one zero-padded, run through forward() in batches, pooled to one row per
// TR, and rows whose 1 s window overlaps the stimulus [0, duration) are kept.
//
// Overlap (PredictOptions::overlap_trs = K, default 0): segments start every duration_trs - K
// TRs (upstream Data.get_loaders: stride = (duration_trs - overlap_trs) x TR); the first
// segment gives all its rows, every later one only its rows after the first K (upstream's
// validation rule, pl_module: y_pred[:, :, overlap_trs_val:]). Each TR thus comes from exactly
// one segment, the one where it has at least K TRs of left context; nothing is blended.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/model/brain_model.hpp"

namespace tribev2::model {

struct FeatureSeries {
  using WindowReader = std::function<void(std::int64_t step0, std::int64_t n, float* dst)>;
  FeatureSeries() = default;
  FeatureSeries(std::string modality_, Tensor data_, WindowReader read_window_ = {})
      : modality(std::move(modality_)), data(std::move(data_)), read_window(std::move(read_window_)) {}

  std::string modality;
  Tensor data;  // float32 [L, D, N] (or [width, N]) at the feature frequency
  // Optional: copies steps [step0, step0 + n) of every channel into dst [L*D, n]. When set,
  // predict() reads the series through it and never touches `data`'s memory (which gives its
  // shape), e.g. a long file read window by window instead of mapped whole.
  WindowReader read_window;
};

struct SegmentPlan {
  double start = 0.0;           // seconds
  double duration = 0.0;        // seconds
  std::int64_t step0 = 0;       // first feature step
  std::int64_t steps = 0;       // feature steps per segment (T)
  std::int64_t skip_trs = 0;    // leading rows left to the previous segment (overlap; 0 for the first)
};

struct PredictOptions {
  std::optional<double> duration;  // stimulus length in seconds; default N / frequency
  bool pad = false;                // zero-pad modalities shorter than the longest
  int batch_size = 8;
  std::optional<std::int64_t> subject;  // for per-subject models
  bool emit_latents = false;
  bool check_finite = true;
  // Overlapping segments (see the top of this file): 0 <= overlap_trs < duration_trs.
  std::int64_t overlap_trs = 0;
  // The series hold each planned segment's `steps` steps back to back (features built per
  // segment window, as `tribev2 run` does) instead of one continuous timeline. Identical
  // when overlap_trs = 0.
  bool segment_major_input = false;
  // Feature series served from a read-only file mapping (an .npy read by io::read_npy) give
  // their pages back as segments are consumed, so a long stimulus's inputs are never all
  // resident at once (the pages stay in the page cache). Heap-backed series are untouched.
  bool release_consumed_inputs = true;
  // Progress callback: (segments done, segments total).
  std::function<void(std::int64_t, std::int64_t)> progress;
  // Streaming: when set, the kept rows are handed over in order as they are computed
  // (first_row, rows [n, n_outputs] row-major, n) and Prediction::preds stays empty, so a
  // long stimulus never holds all of its predictions in memory.
  std::function<void(std::int64_t first_row, const float* rows, std::int64_t n)> on_rows;
};

struct RowInfo {
  std::int64_t index = 0;
  double start = 0.0;
  double end = 0.0;
};

struct Prediction {
  Tensor preds;                  // [n_rows, n_outputs]
  std::vector<RowInfo> rows;
  std::vector<SegmentPlan> segments;
  Tensor latents;                // [n_steps, hidden] when requested
  double duration = 0.0;
};

// Segments of `segment_seconds` from t0, one every (duration_trs - overlap_trs) TRs, as many as
// needed for the rows they contribute to cover [t0, t0 + duration) (at least one).
std::vector<SegmentPlan> plan_segments(double duration, const DataConfig& data, double t0 = 0.0,
                                       std::int64_t overlap_trs = 0);
// Rows kept from those segments: each segment's 1-TR windows [a, a + TR) from its skip_trs-th
// on, with a < t0 + duration.
std::vector<RowInfo> plan_rows(const std::vector<SegmentPlan>& segments, double duration,
                               const DataConfig& data, double t0 = 0.0);

Prediction predict(const Context& ctx, const BrainModel& model, const DataConfig& data,
                   const std::vector<FeatureSeries>& features, const PredictOptions& options);

}  // namespace tribev2::model
