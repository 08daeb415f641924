// Colormaps with matplotlib's exact 256-entry lookup tables and its lookup rule, so a value
// gets the same colour as in nilearn/matplotlib figures. Names: matplotlib's RdBu_r (nilearn's
// default), coolwarm, bwr, seismic, hot, viridis, plasma, inferno, gray; nilearn's cold_hot,
// cold_white_hot, black_red, black_blue, black_green, black_pink, black_purple, blue_red,
// blue_orange, brown_blue, brown_cyan, cyan_copper, cyan_orange, purple_blue, purple_green,
// ocean_hot, hot_white_bone, hot_black_bone, roy_big_bl, videen_style; colorcet's fire (what
// upstream TRIBE's get_cmap("fire") returns); and the reverse of any of them with "_r".
//
// Upstream's alpha colormaps (tribev2.plotting.utils.get_alpha_cmap, used by
// get_cmap(cmap, alpha_cmap=(threshold, scale))) are `with_alpha`: the map resampled to 1024
// entries whose opacity ramps from 0 to 1 over [threshold, threshold + scale].
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tribev2::viz {

struct Rgb {
  float r = 0, g = 0, b = 0;
};
struct Rgba {
  float r = 0, g = 0, b = 0, a = 1;
};

class Colormap {
 public:
  static constexpr int kSize = 256;

  // Throws listing the known names when `name` is unknown.
  static Colormap get(std::string_view name);
  static std::vector<std::string> names();

  // Upstream's get_alpha_cmap(cmap, threshold, scale, symmetric): 1024 entries, entry j has the
  // colour this map gives to linspace(0, 1, 1024)[j] and an opacity that is 0 below index
  // int(threshold * 1023), ramps linearly to 1 until int((threshold + scale) * 1023) and is 1
  // above. `symmetric` (upstream: for seismic and bwr) folds the ramp so that both ends are
  // opaque and the middle transparent. Requires 0 <= threshold <= 1 and scale > 0.
  Colormap with_alpha(double threshold, double scale, bool symmetric) const;
  // upstream's get_cmap(name, alpha_cmap): symmetric for "seismic" and "bwr".
  static Colormap get(std::string_view name, double alpha_threshold, double alpha_scale);

  const std::string& name() const { return name_; }
  Rgb entry(int i) const;  // base lookup table entry, 0 <= i < kSize
  int size() const;        // entries of the lookup rule: 256, or 1024 with alpha
  bool has_alpha() const { return !alpha_.empty(); }
  float alpha_entry(int j) const;  // opacity of entry j (1 without alpha), 0 <= j < size()

  // matplotlib's Colormap.__call__ for a float x (already normalised): index floor(x * N),
  // x == 1 maps to the last entry, x < 0 to the first ("under") and x > 1 to the last
  // ("over"). NaN is the caller's business (we draw it as background).
  Rgb operator()(double x) const;
  // The same with the opacity (1 without alpha); with alpha the 1024-entry rule is used.
  Rgba rgba(double x) const;

 private:
  Colormap(std::string name, const float* table, bool reversed) : name_(std::move(name)), table_(table), reversed_(reversed) {}
  int index_of(double x, int n) const;
  std::string name_;
  const float* table_;
  bool reversed_;
  std::vector<float> alpha_;  // empty, or 1024 opacities
};

}  // namespace tribev2::viz
