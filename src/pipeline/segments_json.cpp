#include "tribev2/pipeline/segments_json.hpp"

#include <string>

#include "tribev2/io/file.hpp"

namespace tribev2::pipeline {

nlohmann::ordered_json segments_json(const SegmentsInfo& info, const model::DataConfig& data) {
  nlohmann::ordered_json j;
  j["duration_s"] = info.duration;
  j["t0_s"] = info.t0;
  j["tr_s"] = data.tr();
  j["feature_frequency_hz"] = data.frequency;
  j["overlap_trs"] = info.overlap_trs;
  j["n_rows"] = info.rows.size();
  j["note"] = "Row i is the prediction for the window [start, end) seconds of the stimulus timeline; it estimates the "
              "BOLD response measured about " + std::to_string(static_cast<int>(data.neuro_offset)) +
              " s later (hemodynamic delay). No shift is applied to rows. The timeline starts at t0 (for `run`, the "
              "earliest event; -1e-6 when the first word starts at 0, as upstream).";
  auto& segs = j["segments"] = nlohmann::ordered_json::array();
  for (const auto& s : info.segments)
    segs.push_back({{"start", s.start}, {"duration", s.duration}, {"first_step", s.step0}, {"steps", s.steps},
                    {"first_row_used", s.skip_trs}});
  auto& rows = j["rows"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < info.rows.size(); ++i)
    rows.push_back({{"row", i}, {"start", info.rows[i].start}, {"end", info.rows[i].end}});
  return j;
}

void write_segments_json(const std::filesystem::path& path, const SegmentsInfo& info, const model::DataConfig& data) {
  io::write_text_file_atomic(path, segments_json(info, data).dump(1) + "\n");
}

SegmentsInfo segments_info(const model::Prediction& p, std::int64_t overlap_trs) {
  return {p.segments, p.rows, p.duration, 0.0, overlap_trs};
}

}  // namespace tribev2::pipeline
