// The layer-group rule shared by the three extractors (features/layer_groups.hpp), with
// upstream's dedupe of repeated bounds.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/features/layer_groups.hpp"

using namespace tribev2;
using namespace tribev2::features;

TEST(LayerGroups, UpstreamSelectionAndGroups) {
  // Llama-3.2-3B: 29 states -> 20 kept; V-JEPA2 ViT-g: 41 -> 20; w2v-BERT: all 25, grouped.
  const auto sel = layer_selection(41, 20);
  ASSERT_EQ(sel.size(), 20u);
  EXPECT_EQ(sel.front(), 0);
  EXPECT_EQ(sel[5], 11);  // 5 * 40 / 19 = 10.53 -> 11
  EXPECT_EQ(sel.back(), 40);
  EXPECT_EQ(layer_selection(5, 1), std::vector<int>{0});
  EXPECT_EQ(group_bounds(20, {0.5, 0.75, 1.0}), (std::vector<int>{9, 14, 20}));
  EXPECT_EQ(group_bounds(25, {0.5, 0.75, 1.0}), (std::vector<int>{12, 18, 25}));
  EXPECT_EQ(layer_groups(25, {0.5, 0.75, 1.0}), (std::vector<std::pair<int, int>>{{12, 18}, {18, 25}}));
}

TEST(LayerGroups, DedupesAndSortsAsUpstream) {
  // neuralset: sorted(set(int(f * (n - 1)))) -- repeated and unsorted fractions are fine.
  EXPECT_EQ(group_bounds(20, {1.0, 0.5, 0.5, 0.51}), (std::vector<int>{9, 20}));
  EXPECT_THROW_MSG(group_bounds(20, {1.0, 1.0}), "give a single bound (19), so no group");
  EXPECT_THROW_MSG(group_bounds(20, {0.5, 1.5}), "layer groups: fraction 1.5 outside [0, 1]");
  EXPECT_THROW_MSG(group_bounds(0, {0.5, 1.0}), "no hidden states");
  EXPECT_THROW_MSG(layer_selection(0, 3), "layer selection: need at least one hidden state");
}
