#include "tribev2/viz/colormap.hpp"

#include <cmath>

#include "colormap_data.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2::viz {

namespace {
const detail::ColormapTable* find_table(std::string_view name) {
  for (int i = 0; i < detail::kColormapTableCount; ++i)
    if (name == detail::kColormapTables[i].name) return &detail::kColormapTables[i];
  return nullptr;
}
}  // namespace

std::vector<std::string> Colormap::names() {
  // Tables are stored once; "RdBu_r" is the reverse of the stored "RdBu", "gray_r" of "gray".
  std::vector<std::string> out;
  for (int i = 0; i < detail::kColormapTableCount; ++i) {
    const std::string n = detail::kColormapTables[i].name;
    out.push_back(n == "RdBu" ? "RdBu_r" : n);
  }
  return out;
}

Colormap Colormap::get(std::string_view name) {
  if (const auto* t = find_table(name)) return Colormap(std::string(name), t->rgb, false);
  if (name.size() > 2 && name.substr(name.size() - 2) == "_r")
    if (const auto* t = find_table(name.substr(0, name.size() - 2))) return Colormap(std::string(name), t->rgb, true);
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown colormap '", name, "' (known: ", known, "; add _r to reverse one)");
}

Rgb Colormap::entry(int i) const {
  TRIBEV2_CHECK(i >= 0 && i < kSize, "colormap entry ", i, " out of range");
  // matplotlib's reversed LinearSegmentedColormap samples the mirrored segments at the same
  // points, and a reversed ListedColormap reverses the list: both are the table read backwards.
  const int k = reversed_ ? kSize - 1 - i : i;
  const float* p = table_ + 3 * k;
  return {p[0], p[1], p[2]};
}

Rgb Colormap::operator()(double x) const {
  double xa = x * kSize;
  int i;
  if (!(xa >= 0)) i = 0;                // under (and NaN, which callers handle before)
  else if (xa >= kSize) i = kSize - 1;  // x == 1 is the last entry; above is "over" = last
  else i = static_cast<int>(xa);        // truncation == floor for xa >= 0
  return entry(i);
}

}  // namespace tribev2::viz
