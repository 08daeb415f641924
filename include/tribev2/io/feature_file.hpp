// Feature arrays as users hand them over: .npy (float32/float16/float64), .npz (the array
// named after the modality, or the only array) or the Rust edition's raw little-endian
// float32 .bin with an explicit shape. The result is float32.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "tribev2/core/tensor.hpp"

namespace tribev2::io {

Tensor read_feature_file(const std::filesystem::path& path, const std::string& modality,
                         const std::optional<Shape>& bin_shape = std::nullopt);

}  // namespace tribev2::io
