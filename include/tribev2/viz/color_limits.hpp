// Colour limits (vmin, vmax) for a map, with nilearn's plot_surf_stat_map defaults: when no
// limits are given, a map with values of both signs gets symmetric limits +-max|v|, a map of
// one sign gets [min, max]. A robust percentile replaces the extremes when asked.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace tribev2::viz {

struct ColorLimits {
  double vmin = -1.0, vmax = 1.0;
};

enum class Symmetric { Auto, Yes, No };
Symmetric parse_symmetric(std::string_view text);  // auto | yes | no (also true/false/on/off)

struct LimitOptions {
  std::optional<double> vmin, vmax;
  // Robust limits: with symmetric limits vmax = P-th percentile of |v|; otherwise
  // [ (100-P)-th, P-th ] percentiles. Empty: the extremes (P = 100).
  std::optional<double> percentile;
  Symmetric symmetric = Symmetric::Auto;
};

// Non-finite values are ignored. All-equal or empty data gets a usable non-empty range.
ColorLimits compute_limits(std::span<const float> values, const LimitOptions& options);

// numpy.percentile (linear interpolation) of the finite values; q in [0, 100]. NaN when none.
double percentile(std::span<const float> values, double q);
// Same for |values|.
double abs_percentile(std::span<const float> values, double q);

// Colour-bar tick values: five evenly spaced ticks from vmin to vmax; when a threshold is
// given and not tiny against vmax, the two ticks closest to +-threshold are moved onto it.
std::vector<double> colorbar_ticks(const ColorLimits& limits, std::optional<double> threshold);

}  // namespace tribev2::viz
