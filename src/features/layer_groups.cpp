#include "tribev2/features/layer_groups.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"

namespace tribev2::features {

std::vector<int> layer_selection(int n_states, int n) {
  TRIBEV2_CHECK(n_states >= 1 && n >= 1, "layer selection: need at least one hidden state and one layer, got ",
                n_states, " and ", n);
  std::vector<int> sel(static_cast<std::size_t>(n));
  if (n == 1) return sel;
  const double stop = n_states - 1;
  const double step = stop / (n - 1);
  for (int i = 0; i < n; ++i) sel[static_cast<std::size_t>(i)] = static_cast<int>(py_round(i * step));
  sel.back() = static_cast<int>(py_round(stop));
  return sel;
}

std::vector<int> group_bounds(int n_layers, std::span<const double> fractions) {
  TRIBEV2_CHECK(n_layers >= 1, "layer groups: no hidden states");
  TRIBEV2_CHECK(!fractions.empty(), "layer groups: no layer fractions");
  std::vector<int> b;
  for (const double f : fractions) {
    TRIBEV2_CHECK(std::isfinite(f) && f >= 0.0 && f <= 1.0, "layer groups: fraction ", f, " outside [0, 1]");
    b.push_back(static_cast<int>(f * (n_layers - 1)));  // Python int(): truncation
  }
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  TRIBEV2_CHECK(b.size() >= 2, "layer groups: the fractions give a single bound (", b.front(),
                "), so no group; give at least two distinct fractions");
  b.back() += 1;
  return b;
}

std::vector<std::pair<int, int>> layer_groups(int n_layers, std::span<const double> fractions) {
  const auto b = group_bounds(n_layers, fractions);
  std::vector<std::pair<int, int>> g;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) g.emplace_back(b[i], b[i + 1]);
  return g;
}

}  // namespace tribev2::features
