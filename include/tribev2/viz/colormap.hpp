// Colormaps with matplotlib's exact 256-entry lookup tables and its lookup rule, so a value
// gets the same colour as in nilearn/matplotlib figures. Names: RdBu_r (nilearn's default),
// coolwarm, cold_hot (nilearn), bwr, seismic, hot, viridis, plasma, inferno, gray, and the
// reverse of any of them with "_r" (RdBu, coolwarm_r, ...).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tribev2::viz {

struct Rgb {
  float r = 0, g = 0, b = 0;
};

class Colormap {
 public:
  static constexpr int kSize = 256;

  // Throws listing the known names when `name` is unknown.
  static Colormap get(std::string_view name);
  static std::vector<std::string> names();

  const std::string& name() const { return name_; }
  Rgb entry(int i) const;  // lookup table entry, 0 <= i < kSize

  // matplotlib's Colormap.__call__ for a float x (already normalised): index floor(x * N),
  // x == 1 maps to the last entry, x < 0 to the first ("under") and x > 1 to the last
  // ("over"). NaN is the caller's business (we draw it as background).
  Rgb operator()(double x) const;

 private:
  Colormap(std::string name, const float* table, bool reversed) : name_(std::move(name)), table_(table), reversed_(reversed) {}
  std::string name_;
  const float* table_;
  bool reversed_;
};

}  // namespace tribev2::viz
