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
  // Per vertex: index into names/colors, -1 when unlabelled. As nibabel's read_annot: a stored
  // value of 0 is unlabelled; unlike nibabel, a value matching no entry is -1 too (nibabel
  // returns an arbitrary entry or fails there).
  std::vector<std::int32_t> labels;
  std::vector<std::string> names;            // one per colour-table entry, in file order
  std::vector<std::array<std::int32_t, 4>> colors;  // r, g, b, transparency (0..255)
  // The raw annotation value stored for each vertex (r + g*2^8 + b*2^16), 0 where none was.
  std::vector<std::int32_t> values;
  // Per entry, MNE's label id (mne.label._read_annot): r + g*2^8 + b*2^16, plus t*2^24 in
  // old-format tables. MNE's labels are the vertices whose value equals the id.
  std::vector<std::int64_t> ids;
  bool old_format = false;  // colour table in the old (pre version 2) layout
};
// .annot with an embedded colour table (old or version-2 format).
Annotation parse_freesurfer_annot(std::span<const std::byte> bytes, std::string_view name);

// A FreeSurfer ASCII .label file: "#" comment line, vertex count, then one line per vertex
// "vno x y z value" (what nibabel.freesurfer.read_label and mne.read_label read).
struct SurfaceLabel {
  std::string comment;                 // the first line without its "#"
  std::vector<std::int32_t> vertices;  // vertex numbers, in file order
  std::vector<std::array<float, 3>> positions;
  std::vector<float> values;
};
SurfaceLabel parse_freesurfer_label(std::string_view text, std::string_view name);
SurfaceLabel read_freesurfer_label(const std::filesystem::path& path);

Mesh read_freesurfer_surface(const std::filesystem::path& path);
std::vector<float> read_freesurfer_morph(const std::filesystem::path& path);
Annotation read_freesurfer_annot(const std::filesystem::path& path);

// Any surface: .gii / .gii.gz as GIFTI, anything else as a FreeSurfer surface.
Mesh read_surface(const std::filesystem::path& path);
// Any per-vertex map: .gii / .gii.gz as GIFTI, anything else as a FreeSurfer curv file.
std::vector<float> read_surface_map(const std::filesystem::path& path);

}  // namespace tribev2::viz
