// Writing prediction results: preds.npy and segments.json.
#pragma once

#include <filesystem>

#include "tribev2/model/config.hpp"
#include "tribev2/model/predict.hpp"

namespace tribev2::cli {

void write_segments_json(const std::filesystem::path& path, const model::Prediction& p, const model::DataConfig& data);

}  // namespace tribev2::cli
