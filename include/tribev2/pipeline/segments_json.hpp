// THE segments.json writer: the row and segment times of a prediction, written by `run`
// (segments.json), `predict` (<stem>_segments.json) and `demo`; read back by viz
// (viz::read_row_times) for the figures' time labels.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "tribev2/model/config.hpp"
#include "tribev2/model/predict.hpp"

namespace tribev2::pipeline {

struct SegmentsInfo {
  std::vector<model::SegmentPlan> segments;
  std::vector<model::RowInfo> rows;
  double duration = 0.0;       // seconds of stimulus predicted
  double t0 = 0.0;             // where the timeline starts (run: the earliest event)
  std::int64_t overlap_trs = 0;
};

// {duration_s, t0_s, tr_s, feature_frequency_hz, overlap_trs, n_rows, note, segments, rows}.
nlohmann::ordered_json segments_json(const SegmentsInfo& info, const model::DataConfig& data);
void write_segments_json(const std::filesystem::path& path, const SegmentsInfo& info, const model::DataConfig& data);
// From predict()'s result (a timeline from t = 0).
SegmentsInfo segments_info(const model::Prediction& p, std::int64_t overlap_trs = 0);

}  // namespace tribev2::pipeline
