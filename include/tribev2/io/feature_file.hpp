// Feature arrays as users hand them over: .npy (float32/float16/float64), .npz (the array
// named after the modality, or the only array) or the Rust edition's raw little-endian
// float32 .bin with an explicit shape. The result is float32.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "tribev2/core/tensor.hpp"

namespace tribev2::io {

Tensor read_feature_file(const std::filesystem::path& path, const std::string& modality,
                         const std::optional<Shape>& bin_shape = std::nullopt);

// Copies steps [step0, step0 + n) of every channel of a [channels..., N] float32 series into
// dst [channels, n] (row stride n).
using FeatureWindowReader = std::function<void(std::int64_t step0, std::int64_t n, float* dst)>;

// The same array, plus a window reader when the file stores it as plain float32 in C order
// (an aligned little-endian .npy, or .bin): the reader copies with pread, so a long series is
// never mapped into this process (its pages stay in the page cache, not in our resident set);
// `data` is then a memory map that need not be touched. Otherwise `read_window` is empty.
struct FeatureFile {
  Tensor data;
  FeatureWindowReader read_window;
};
FeatureFile open_feature_file(const std::filesystem::path& path, const std::string& modality,
                              const std::optional<Shape>& bin_shape = std::nullopt);

}  // namespace tribev2::io
