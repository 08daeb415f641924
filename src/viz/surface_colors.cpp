#include "tribev2/viz/surface_colors.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"

namespace tribev2::viz {

void background_colors(std::span<const float> map, float lo, float hi, float darkness, std::span<Rgb> out) {
  if (map.empty()) {
    for (auto& c : out) c = {0.75f, 0.75f, 0.75f};
    return;
  }
  TRIBEV2_CHECK(map.size() == out.size(), "background_colors: ", map.size(), " values for ", out.size(), " vertices");
  // nilearn: a map outside [0, 1] is normalised by its range; then grey = gray_r(darkness * v).
  const bool normalise = lo < 0 || hi > 1;
  const float span = hi - lo;
  for (std::size_t i = 0; i < map.size(); ++i) {
    float v = map[i];
    if (!std::isfinite(v)) v = 0;
    if (normalise) v = span > 0 ? (v - lo) / span : 0.5f;
    const float g = 1.0f - darkness * std::clamp(v, 0.0f, 1.0f);
    out[i] = {g, g, g};
  }
}

void map_colors(std::span<const float> values, std::span<const Rgb> background, const Colormap& cmap,
                const ColorOptions& o, std::span<Rgb> out) {
  TRIBEV2_CHECK(values.size() == out.size() && background.size() == out.size(), "map_colors: sizes differ (", values.size(),
                " values, ", background.size(), " background, ", out.size(), " out)");
  const double vmin = o.limits.vmin, range = o.limits.vmax - o.limits.vmin;
  const double thr = o.threshold.value_or(-1.0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (std::isnan(v) || std::abs(static_cast<double>(v)) < thr) {
      out[i] = background[i];
      continue;
    }
    // nilearn mixes the map's RGBA over the opaque background (mix_colormaps): the colormap's
    // own opacity (upstream's alpha colormaps), replaced by 0.7 with bg_on_data.
    const Rgba c = cmap.rgba((static_cast<double>(v) - vmin) / range);
    const float alpha = o.bg_on_data ? 0.7f : c.a;
    const Rgb& b = background[i];
    out[i] = {alpha * c.r + (1 - alpha) * b.r, alpha * c.g + (1 - alpha) * b.g, alpha * c.b + (1 - alpha) * b.b};
  }
}

void rgb_contributions(std::span<const float> red, std::span<const float> green, std::span<const float> blue,
                       double pct, std::span<Rgb> out) {
  TRIBEV2_CHECK(red.size() == out.size() && green.size() == out.size() && blue.size() == out.size(),
                "rgb_contributions: the three maps and the output must have the same size");
  TRIBEV2_CHECK(pct > 0 && pct <= 100, "RGB percentile must be in (0, 100], got ", pct);
  // One lower bound (the minimum) and one upper bound (a percentile) over all 3n values, as
  // upstream's robust_normalize(colors, percentile, two_sided=False) with axis=None.
  std::vector<float> all;
  all.reserve(out.size() * 3);
  all.insert(all.end(), red.begin(), red.end());
  all.insert(all.end(), green.begin(), green.end());
  all.insert(all.end(), blue.begin(), blue.end());
  const double hi = percentile(all, pct);
  double lo = INFINITY;
  for (float v : all)
    if (std::isfinite(v)) lo = std::min(lo, static_cast<double>(v));
  const double span = hi - lo;
  auto norm = [&](float v) {
    if (!std::isfinite(v) || !(span > 0)) return 0.0f;
    return static_cast<float>(std::clamp((static_cast<double>(v) - lo) / span, 0.0, 1.0));
  };
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {norm(red[i]), norm(green[i]), norm(blue[i])};
}

}  // namespace tribev2::viz
