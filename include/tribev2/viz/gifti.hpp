// GIFTI (.gii, .gii.gz) reading and writing: the XML container of surface meshes, per-vertex
// maps and time series (https://www.nitrc.org/projects/gifti, format version 1.0).
//
// Reading accepts ASCII, Base64Binary and GZipBase64Binary data in little- or big-endian byte
// order, row- or column-major, for the NIFTI_TYPE_{UINT8, INT8, INT16, UINT16, INT32, UINT32,
// INT64, UINT64, FLOAT32, FLOAT64} data types; a whole file may itself be gzip-compressed.
// Integer arrays are kept as int32 (values outside that range are rejected), float arrays as
// float32. External-file data is not supported (rejected with a message saying so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tribev2/viz/mesh.hpp"

namespace tribev2::viz {

using GiftiMeta = std::vector<std::pair<std::string, std::string>>;

enum class GiftiEncoding { Ascii, Base64Binary, GZipBase64Binary };
GiftiEncoding parse_gifti_encoding(std::string_view text);  // "ascii" | "base64" | "gzip" (or the GIFTI names)

struct GiftiDataArray {
  std::string intent = "NIFTI_INTENT_NONE";
  std::string data_type = "NIFTI_TYPE_FLOAT32";  // as read; written as FLOAT32 or INT32 from the data held
  std::vector<std::int64_t> dims;                 // row-major dimensions
  GiftiMeta meta;
  std::vector<float> floats;                      // float data types
  std::vector<std::int32_t> ints;                 // integer data types

  bool is_integer() const;
  std::int64_t numel() const;
  std::string meta_value(std::string_view key) const;  // "" when absent
};

struct GiftiImage {
  GiftiMeta meta;
  std::vector<GiftiDataArray> arrays;
  std::string meta_value(std::string_view key) const;
};

// `name` is used in error messages. `bytes` may be the XML or a gzip stream of it.
GiftiImage parse_gifti(std::span<const std::byte> bytes, std::string_view name);
GiftiImage read_gifti(const std::filesystem::path& path);

std::string encode_gifti(const GiftiImage& image, GiftiEncoding encoding = GiftiEncoding::GZipBase64Binary);
// Writes atomically; a path ending in ".gz" gets the whole document gzip-compressed.
void write_gifti(const std::filesystem::path& path, const GiftiImage& image,
                 GiftiEncoding encoding = GiftiEncoding::GZipBase64Binary);

// The NIFTI_INTENT_POINTSET + NIFTI_INTENT_TRIANGLE pair of a surface file, validated.
Mesh gifti_surface(const GiftiImage& image, std::string_view name);
// The values of a one-map file (a single array, or the first 1-D array) as float32.
std::vector<float> gifti_map(const GiftiImage& image, std::string_view name);

// A surface GIFTI image (for writing meshes, e.g. generated ones).
GiftiImage make_surface_gifti(const Mesh& mesh, std::string_view anatomical_structure);

}  // namespace tribev2::viz
