#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/features/layer_groups.hpp"
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
  g.selected = features::layer_selection(n_states, cache_n_layers);
  g.groups = features::layer_groups(cache_n_layers, fractions);
  return g;
}

}  // namespace tribev2::text
