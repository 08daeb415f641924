// Per-vertex colours: a grey background from sulcal depth (nilearn: 1 - darkness * normalised
// depth, so gyri are light and sulci dark) with the data's colour on top; vertices whose
// |value| is below the threshold, or whose value is NaN, show the background.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "tribev2/viz/color_limits.hpp"
#include "tribev2/viz/colormap.hpp"

namespace tribev2::viz {

struct ColorOptions {
  ColorLimits limits;
  std::optional<double> threshold;  // |v| < threshold shows the background
  float bg_darkness = 0.7f;         // nilearn's default darkness
  bool bg_on_data = false;          // nilearn: blend the data (alpha 0.7) over the background
};

// Background greys from a shading map normalised over [lo, hi] (values already in [0, 1] when
// lo == 0 and hi == 1 are kept, as nilearn does). Empty `map`: uniform mid grey.
void background_colors(std::span<const float> map, float lo, float hi, float darkness, std::span<Rgb> out);

void map_colors(std::span<const float> values, std::span<const Rgb> background, const Colormap& cmap,
                const ColorOptions& options, std::span<Rgb> out);

// Upstream TRIBE's RGB map of three contributions (text, audio, video -> red, green, blue):
// the [n, 3] stack is normalised with one lower bound (its minimum) and one upper bound (the
// `percentile`-th percentile of all its values), then clipped to [0, 1]. Upstream normalises the
// vertices of each drawn hemisphere set separately; callers pass the set they draw.
void rgb_contributions(std::span<const float> red, std::span<const float> green, std::span<const float> blue,
                       double percentile, std::span<Rgb> out);

}  // namespace tribev2::viz
