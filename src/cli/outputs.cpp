#include "outputs.hpp"

#include <nlohmann/json.hpp>

#include "tribev2/io/file.hpp"

namespace tribev2::cli {

void write_segments_json(const std::filesystem::path& path, const model::Prediction& p, const model::DataConfig& data,
                         std::int64_t overlap_trs) {
  nlohmann::ordered_json j;
  j["duration_s"] = p.duration;
  j["tr_s"] = data.tr();
  j["feature_frequency_hz"] = data.frequency;
  j["overlap_trs"] = overlap_trs;
  j["n_rows"] = p.rows.size();
  j["note"] = "Row i is the prediction for the window [start, end) seconds of the stimulus; it estimates the BOLD "
              "response measured about " + std::to_string(static_cast<int>(data.neuro_offset)) +
              " s later (hemodynamic delay). No shift is applied to rows.";
  auto& segs = j["segments"] = nlohmann::ordered_json::array();
  for (const auto& s : p.segments)
    segs.push_back({{"start", s.start}, {"duration", s.duration}, {"first_step", s.step0}, {"steps", s.steps}, {"first_row_used", s.skip_trs}});
  auto& rows = j["rows"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < p.rows.size(); ++i)
    rows.push_back({{"row", i}, {"start", p.rows[i].start}, {"end", p.rows[i].end}});
  io::write_text_file_atomic(path, j.dump(1) + "\n");
}

}  // namespace tribev2::cli
