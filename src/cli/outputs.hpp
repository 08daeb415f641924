// Writing prediction results: the row and segment times (<stem>_segments.json for predict,
// segments.json in a demo/run folder).
#pragma once

#include <filesystem>

#include "tribev2/model/config.hpp"
#include "tribev2/model/predict.hpp"

namespace tribev2::cli {

void write_segments_json(const std::filesystem::path& path, const model::Prediction& p, const model::DataConfig& data,
                         std::int64_t overlap_trs = 0);

}  // namespace tribev2::cli
