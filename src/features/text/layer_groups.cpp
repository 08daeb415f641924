#include <algorithm>
#include <cmath>
#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/features/text/word_features.hpp"

namespace tribev2::text {

std::string LayerGroups::key() const {
  std::ostringstream s;
  s << "sel";
  for (const int i : selected) s << ',' << i;
  s << ";groups";
  for (const auto& [b, e] : groups) s << ',' << b << '-' << e;
  return s.str();
}

LayerGroups upstream_layer_groups(int n_states, int cache_n_layers, const std::vector<double>& fractions) {
  TRIBEV2_CHECK(n_states >= 2, "layer groups: need at least 2 hidden states, got ", n_states);
  TRIBEV2_CHECK(cache_n_layers >= 2 && cache_n_layers <= n_states, "layer groups: cache_n_layers ", cache_n_layers,
                " must be in [2, ", n_states, "]");
  LayerGroups g;
  // numpy.linspace(0, n_states - 1, cache_n_layers): k * step, the last value exactly the stop;
  // then Python round (half to even).
  const double stop = n_states - 1;
  const double step = stop / (cache_n_layers - 1);
  for (int k = 0; k < cache_n_layers; ++k) {
    const double x = k == cache_n_layers - 1 ? stop : k * step;
    g.selected.push_back(static_cast<int>(std::nearbyint(x)));
  }
  // neuralset _aggregate_layers(group_mean): unique int(f * (n - 1)), last bound + 1.
  const int n = cache_n_layers;
  std::vector<int> idx;
  for (const double f : fractions) {
    TRIBEV2_CHECK(f >= 0.0 && f <= 1.0, "layer groups: layer fraction ", f, " must be in [0, 1]");
    idx.push_back(static_cast<int>(f * (n - 1)));
  }
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  TRIBEV2_CHECK(idx.size() >= 2, "layer groups: the layer fractions give fewer than 2 distinct bounds");
  idx.back() += 1;
  for (std::size_t i = 0; i + 1 < idx.size(); ++i) g.groups.emplace_back(idx[i], idx[i + 1]);
  return g;
}

}  // namespace tribev2::text
