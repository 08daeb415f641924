// FreeSurfer binary files: triangle surfaces (lh.pial, lh.inflated, ...), per-vertex "curv"
// files (lh.curv, lh.sulc, thickness; new and old formats) and .annot label files. All are
// big-endian. Plus a dispatcher that reads either a FreeSurfer or a GIFTI file.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/viz/mesh.hpp"

namespace tribev2::viz {

// Triangle surface (magic 0xFFFFFE); quad surfaces (0xFFFFFF / 0xFFFFFD) are rejected.
Mesh parse_freesurfer_surface(std::span<const std::byte> bytes, std::string_view name);
// "Curv" morphometry: new format (magic 0xFFFFFF, float32 per vertex) or the old one (int16 / 100).
std::vector<float> parse_freesurfer_morph(std::span<const std::byte> bytes, std::string_view name);

struct Annotation {
  std::vector<std::int32_t> labels;          // per vertex: index into names/colors, -1 when unlabelled
  std::vector<std::string> names;            // one per colour-table entry
  std::vector<std::array<std::int32_t, 4>> colors;  // r, g, b, transparency (0..255)
};
// .annot with an embedded colour table (old or version-2 format).
Annotation parse_freesurfer_annot(std::span<const std::byte> bytes, std::string_view name);

Mesh read_freesurfer_surface(const std::filesystem::path& path);
std::vector<float> read_freesurfer_morph(const std::filesystem::path& path);
Annotation read_freesurfer_annot(const std::filesystem::path& path);

// Any surface: .gii / .gii.gz as GIFTI, anything else as a FreeSurfer surface.
Mesh read_surface(const std::filesystem::path& path);
// Any per-vertex map: .gii / .gii.gz as GIFTI, anything else as a FreeSurfer curv file.
std::vector<float> read_surface_map(const std::filesystem::path& path);

}  // namespace tribev2::viz
