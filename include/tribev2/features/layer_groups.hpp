// THE layer-group rule of the three extractors (upstream: the extractors' `cache_n_layers`
// sub-selection and neuralset's `_aggregate_layers(group_mean)` over `layers_to_use`): which
// hidden states are kept, and which of them are averaged into each output layer.
#pragma once

#include <span>
#include <utility>
#include <vector>

namespace tribev2::features {

// round(numpy.linspace(0, n_states - 1, n)) with Python's half-to-even rounding (the stop
// exactly); n = 1 gives {0}.
std::vector<int> layer_selection(int n_states, int n);
// group_mean bounds over n_layers: sorted unique int(f * (n_layers - 1)) (Python int():
// truncation; upstream dedupes), the last bound + 1. Group g averages [b[g], b[g + 1]).
// Fractions must be in [0, 1] and give at least two distinct bounds.
std::vector<int> group_bounds(int n_layers, std::span<const double> fractions);
// The same as [begin, end) pairs.
std::vector<std::pair<int, int>> layer_groups(int n_layers, std::span<const double> fractions);

// For braced lists: group_bounds(20, {0.5, 0.75, 1.0}).
inline std::vector<int> group_bounds(int n_layers, const std::vector<double>& fractions) {
  return group_bounds(n_layers, std::span<const double>(fractions));
}
inline std::vector<std::pair<int, int>> layer_groups(int n_layers, const std::vector<double>& fractions) {
  return layer_groups(n_layers, std::span<const double>(fractions));
}

}  // namespace tribev2::features
