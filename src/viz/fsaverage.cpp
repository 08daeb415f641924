#include "tribev2/viz/fsaverage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/gifti.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;

namespace {

// nilearn's fsaverage5 files at a pinned commit (nilearn/datasets/data/fsaverage5/). The hashes
// are the SHA-256 of the files as served at that commit.
constexpr PinnedFile kFiles[] = {
    {"pial_left.gii.gz", "1e76fe43ac194c15fd272643f7ae7995621e2a496b3102b2d6175f0f8e6d7fc8"},
    {"pial_right.gii.gz", "fdfae008bc10acf7cba82737ea5db9a7298948c41884a2d3330a785783a60a91"},
    {"infl_left.gii.gz", "1a571c9d598a476a202c7295c235a709de63360047b92c0e7b75ed18b0f37e74"},
    {"infl_right.gii.gz", "9f66b009e1da72158d75b4e739c6289aba0c1b08d818b2f0f9f61204aa4ba895"},
    {"white_left.gii.gz", "ecd590c1405e5553604fd4b113cee13d62638e5fb4084438201db82a4c711c64"},
    {"white_right.gii.gz", "bd0f184539c82eae3b5b22297c4b5f64f901e276152f79d9fa62337f7e0d30d8"},
    {"sphere_left.gii.gz", "1047fe84e0055f40896afaba320edcc791e84f459daadc4b0002850baf8e79f3"},
    {"sphere_right.gii.gz", "08899ce6022b739ceb4e5f925e947a79041fc505007c46ace3454ad02587ea6b"},
    {"sulc_left.gii.gz", "bd0f87e0cba153e9d5c5281edc7267f631b1967e5883d4027924766c8430eb62"},
    {"sulc_right.gii.gz", "97afe76225903205a16b88f88cd796945f2a27011328e98decaa9128ff063afb"},
    {"curv_left.gii.gz", "21c0a0077df466a139ab08ae260f04d13a3050d1eed94ea7f388c75768747c25"},
    {"curv_right.gii.gz", "f74f53ef770330c1f8c571576c1ec251e3e3d07baa64d82387c17d8d78e723f9"},
};

constexpr std::string_view kBaseUrl =
    "https://raw.githubusercontent.com/nilearn/nilearn/59fffa24b81712132c78549c242f68d0f3db8a67/"
    "nilearn/datasets/data/fsaverage5/";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The files a surface kind is made of ("infl" + "pial" for the half-inflated blend).
std::vector<std::string> surface_stems(Surface s) {
  switch (s) {
    case Surface::Pial: return {"pial"};
    case Surface::White: return {"white"};
    case Surface::Inflated: return {"infl"};
    case Surface::HalfInflated: return {"infl", "pial"};
    case Surface::Sphere: return {"sphere"};
  }
  return {};
}

std::vector<std::string> needed_files(const SurfaceOptions& o) {
  std::vector<std::string> out;
  for (const char* hemi : {"left", "right"}) {
    for (const auto& stem : surface_stems(o.surface)) out.push_back(stem + "_" + hemi + ".gii.gz");
    if (o.background == BackgroundMap::Sulc) out.push_back(std::string("sulc_") + hemi + ".gii.gz");
    if (o.background == BackgroundMap::Curv) out.push_back(std::string("curv_") + hemi + ".gii.gz");
  }
  return out;
}

Mesh load_checked_surface(const fs::path& path) {
  Mesh m = gifti_surface(read_gifti(path), path.string());
  TRIBEV2_CHECK(m.n_vertices() == kFsaverage5Vertices, path.string(), ": ", m.n_vertices(),
                " vertices, expected fsaverage5's ", kFsaverage5Vertices);
  return m;
}

}  // namespace

std::span<const PinnedFile> fsaverage5_files() { return kFiles; }
std::string_view fsaverage5_base_url() { return kBaseUrl; }

fs::path default_mesh_dir() {
  if (const auto d = env("TRIBEV2_MESH_DIR"); !d.empty()) return d;
  if (const auto x = env("XDG_DATA_HOME"); !x.empty() && fs::path(x).is_absolute()) return fs::path(x) / "tribev2" / "fsaverage5";
  const auto home = env("HOME");
  if (home.empty()) fail("cannot find a folder for the meshes: HOME is not set (use --mesh-dir or TRIBEV2_MESH_DIR)");
  return fs::path(home) / ".local" / "share" / "tribev2" / "fsaverage5";
}

fs::path resolve_mesh_dir(const std::string& override_dir) {
  return override_dir.empty() ? default_mesh_dir() : fs::path(override_dir);
}

const char* hemi_name(Hemi h) { return h == Hemi::Left ? "left" : "right"; }

Surface parse_surface(std::string_view t) {
  if (t == "pial") return Surface::Pial;
  if (t == "white") return Surface::White;
  if (t == "inflated" || t == "infl") return Surface::Inflated;
  if (t == "half" || t == "half-inflated" || t == "half_inflated") return Surface::HalfInflated;
  if (t == "sphere") return Surface::Sphere;
  fail("surface must be pial, white, inflated, half-inflated or sphere, got '", t, "'");
}

const char* surface_name(Surface s) {
  switch (s) {
    case Surface::Pial: return "pial";
    case Surface::White: return "white";
    case Surface::Inflated: return "inflated";
    case Surface::HalfInflated: return "half-inflated";
    case Surface::Sphere: return "sphere";
  }
  return "?";
}

BackgroundMap parse_background(std::string_view t) {
  if (t == "sulc" || t == "sulcal") return BackgroundMap::Sulc;
  if (t == "curv" || t == "curvature") return BackgroundMap::Curv;
  if (t == "none") return BackgroundMap::None;
  fail("background must be sulc, curv or none, got '", t, "'");
}

void check_fsaverage5(const fs::path& dir, const SurfaceOptions& options) {
  std::string missing;
  for (const auto& f : needed_files(options))
    if (!fs::exists(dir / f)) missing += (missing.empty() ? "" : ", ") + f;
  if (!missing.empty())
    fail("the fsaverage5 meshes are missing from ", dir.string(), " (", missing,
         "); download them once with `tribev2 fetch-mesh` (or `tribev2 fetch-mesh --dir ", dir.string(),
         "`), or point --mesh-dir / TRIBEV2_MESH_DIR at a folder that holds them");
}

BrainSurface load_fsaverage5(const fs::path& dir, const SurfaceOptions& options) {
  check_fsaverage5(dir, options);
  BrainSurface out;
  out.surface = options.surface;
  for (Hemi h : {Hemi::Left, Hemi::Right}) {
    const std::string side = hemi_name(h);
    const auto stems = surface_stems(options.surface);
    Mesh m = load_checked_surface(dir / (stems[0] + "_" + side + ".gii.gz"));
    if (options.surface == Surface::HalfInflated) {
      // Upstream TRIBE: coords = 0.5 * inflated + 0.5 * pial (same vertices and faces).
      const Mesh pial = load_checked_surface(dir / ("pial_" + side + ".gii.gz"));
      TRIBEV2_CHECK(pial.faces == m.faces, dir.string(), ": pial and inflated ", side, " meshes have different faces");
      for (std::size_t i = 0; i < m.vertices.size(); ++i) m.vertices[i] = 0.5f * m.vertices[i] + 0.5f * pial.vertices[i];
    }
    // Move the hemispheres apart along x as upstream does (left ends at -gap/2, right starts at +gap/2).
    float xmin = INFINITY, xmax = -INFINITY;
    for (std::size_t i = 0; i < m.vertices.size(); i += 3) {
      xmin = std::min(xmin, m.vertices[i]);
      xmax = std::max(xmax, m.vertices[i]);
    }
    const float shift = h == Hemi::Left ? -xmax - options.hemisphere_gap / 2 : -xmin + options.hemisphere_gap / 2;
    for (std::size_t i = 0; i < m.vertices.size(); i += 3) m.vertices[i] += shift;
    Hemisphere& dst = out.hemi[static_cast<int>(h)];
    dst.mesh = std::move(m);
    if (options.background != BackgroundMap::None) {
      const fs::path bg = dir / ((options.background == BackgroundMap::Sulc ? "sulc_" : "curv_") + side + ".gii.gz");
      dst.background = gifti_map(read_gifti(bg), bg.string());
      TRIBEV2_CHECK(static_cast<std::int64_t>(dst.background.size()) == kFsaverage5Vertices, bg.string(), ": ",
                    dst.background.size(), " values, expected ", kFsaverage5Vertices);
    }
  }
  return out;
}

std::span<const float> hemi_values(std::span<const float> both, Hemi h) {
  TRIBEV2_CHECK(static_cast<std::int64_t>(both.size()) == kFsaverage5Outputs, "a brain map must have ", kFsaverage5Outputs,
                " values (fsaverage5: 10,242 left then 10,242 right), got ", both.size());
  return both.subspan(h == Hemi::Left ? 0 : static_cast<std::size_t>(kFsaverage5Vertices),
                      static_cast<std::size_t>(kFsaverage5Vertices));
}

}  // namespace tribev2::viz
