// fsaverage5: FreeSurfer's template cortex at 10,242 vertices per hemisphere, the space of
// TRIBE v2's 20,484 outputs (left hemisphere first, then right). The files are nilearn's
// (`nilearn/datasets/data/fsaverage5/`, pinned commit), fetched by `tribev2 fetch-mesh`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/viz/mesh.hpp"

namespace tribev2::viz {

inline constexpr std::int64_t kFsaverage5Vertices = 10242;
inline constexpr std::int64_t kFsaverage5Faces = 20480;
inline constexpr std::int64_t kFsaverage5Outputs = 2 * kFsaverage5Vertices;

struct PinnedFile {
  std::string_view name;    // file name, e.g. "pial_left.gii.gz"
  std::string_view sha256;  // lowercase hex
};
// The twelve files (pial, infl, white, sphere, sulc, curv for left and right) and their hashes.
std::span<const PinnedFile> fsaverage5_files();
// Where they are downloaded from (a folder URL ending in '/').
std::string_view fsaverage5_base_url();

// Default folder of the meshes: $TRIBEV2_MESH_DIR, else $XDG_DATA_HOME/tribev2/fsaverage5,
// else ~/.local/share/tribev2/fsaverage5.
std::filesystem::path default_mesh_dir();
// `override_dir` when not empty, else default_mesh_dir().
std::filesystem::path resolve_mesh_dir(const std::string& override_dir);

enum class Hemi { Left = 0, Right = 1 };
const char* hemi_name(Hemi h);  // "left" | "right"

// pial, white, inflated, half (upstream TRIBE's default: the mean of inflated and pial), sphere.
enum class Surface { Pial, White, Inflated, HalfInflated, Sphere };
Surface parse_surface(std::string_view text);
const char* surface_name(Surface s);

// Background (shading) map under the data: sulcal depth (nilearn's default), curvature, none.
enum class BackgroundMap { Sulc, Curv, None };
BackgroundMap parse_background(std::string_view text);

struct Hemisphere {
  Mesh mesh;
  std::vector<float> background;  // per vertex (empty for BackgroundMap::None)
};

// Both hemispheres ready to draw. As upstream does, each hemisphere is moved along x so that
// the left one ends at x = -gap/2 and the right one starts at x = +gap/2 (inflated surfaces
// are centred on x = 0 in the files and would otherwise overlap).
struct BrainSurface {
  Hemisphere hemi[2];
  Surface surface = Surface::HalfInflated;
  const Hemisphere& operator[](Hemi h) const { return hemi[static_cast<int>(h)]; }
};

struct SurfaceOptions {
  Surface surface = Surface::HalfInflated;
  BackgroundMap background = BackgroundMap::Sulc;
  float hemisphere_gap = 0.0f;  // millimetres between the hemispheres (upstream: 0)
};

// Loads from a folder holding the fsaverage5 files; a missing file is an error that says how
// to get them (`tribev2 fetch-mesh`).
BrainSurface load_fsaverage5(const std::filesystem::path& dir, const SurfaceOptions& options);
// Throws (with the fetch-mesh hint) unless the files a figure needs are in `dir`.
void check_fsaverage5(const std::filesystem::path& dir, const SurfaceOptions& options);

// Separates a [20484] (or [n, 20484] row) vector into the two hemispheres' spans.
std::span<const float> hemi_values(std::span<const float> both, Hemi h);

}  // namespace tribev2::viz
