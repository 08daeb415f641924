// The interactive browser viewer (`tribev2 view`): one self-contained HTML file with NiiVue's
// WebGL renderer inlined (its UMD build, read from the installed copy), the fsaverage5 meshes
// (pial, half-inflated, inflated; both hemispheres), every row of the prediction quantised to
// 16 (or 8) bits, the colormap tables of `plot`, the words, and a <video>/<audio> element
// pointing at the stimulus beside the page. Colours are computed by the page with the same rule
// as the figures (colormap + alpha ramp + threshold over the sulcal grey).
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/viz/color_limits.hpp"

namespace tribev2::viz {

struct ViewerWord {
  double start = 0;
  std::string text;
};

struct ViewerData {
  std::span<const float> rows;    // n_rows x 20484, left then right hemisphere
  std::int64_t n_rows = 0;
  std::vector<double> row_start;  // seconds of the stimulus timeline, one per row
  std::vector<ViewerWord> words;
  // The stimulus element: kind "video" or "audio", its src (relative to the HTML) and the
  // timeline time of the media's t = 0. Empty src: no media element.
  std::string media_kind, media_src;
  double media_origin = 0;
  std::string title = "tribev2 view";
  // An atlas, when given: the region of each output vertex (20,484; an index into roi_names,
  // -1 for none). Clicking the brain then names the region too. Empty: no atlas.
  std::vector<std::string> roi_names;
  std::vector<std::int32_t> roi_labels;
};

struct ViewerOptions {
  std::string cmap = "fire";
  std::optional<std::pair<double, double>> alpha_cmap;
  LimitOptions limits;              // initial vmin/vmax (computed over all rows when not given)
  double threshold = 0;
  bool bg_on_data = false;
  std::string surface = "half";     // initial surface: pial | half | inflated
  int bits = 16;                    // 16 or 8: quantisation of the values
  std::filesystem::path mesh_dir;   // fsaverage5 folder
  std::filesystem::path niivue_js;  // empty: find_niivue_js()
};

// NiiVue's UMD build: $TRIBEV2_NIIVUE_JS, the installed copy (<prefix>/share/tribev2/niivue.umd.js,
// also next to the executable's ../share/tribev2), then the source tree's
// viewer/node_modules/@niivue/niivue/dist/niivue.umd.js (`npm ci --prefix viewer`). Throws
// naming every place looked at when none exists.
std::filesystem::path find_niivue_js(const std::filesystem::path& exe_dir = {});

// The page's text. Size: NiiVue ~2.3 MB, meshes ~1.3 MB, values 4/3 x 2 x 20484 bytes per row
// (~55 kB per TR with 16 bits, ~27 kB with 8 bits) as base64.
std::string build_viewer_html(const ViewerData& data, const ViewerOptions& options);

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::span<const std::uint8_t> bytes);

}  // namespace tribev2::viz
