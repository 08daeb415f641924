// Colour limits (vmin, vmax) for a map, with nilearn's plot_surf_stat_map defaults: when no
// limits are given, a map with values of both signs gets symmetric limits +-max|v|, a map of
// one sign gets [min, max]. A robust percentile replaces the extremes when asked.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <utility>
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

// upstream's robust_normalize(array, percentile=P) over all the values at once (axis=None,
// two-sided, clipped): lo = (100-P)-th and hi = P-th percentile, v -> clip((v - lo) / (hi - lo),
// 0, 1), in place. Returns {lo, hi}. Non-finite values stay as they are and are left out of the
// percentiles (numpy would turn every value into NaN); hi == lo maps every value to 0, where
// numpy divides by zero.
std::pair<double, double> robust_normalize(std::span<float> values, double percentile);

// Colour-bar tick values: five evenly spaced ticks from vmin to vmax; when a threshold is
// given and not tiny against vmax, the two ticks closest to +-threshold are moved onto it.
std::vector<double> colorbar_ticks(const ColorLimits& limits, std::optional<double> threshold);

}  // namespace tribev2::viz
