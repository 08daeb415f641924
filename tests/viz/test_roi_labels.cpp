// ROI name layout (src/viz/roi_overlay): names never overlap, stay inside the panel, stay on
// their anchor when it is free, and move as little as the free space allows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "../../src/viz/roi_overlay.hpp"

using tribev2::viz::detail::LabelBox;
using tribev2::viz::detail::place_labels;

namespace {

bool overlap(const LabelBox& a, const std::array<double, 2>& pa, const LabelBox& b, const std::array<double, 2>& pb,
             double gap) {
  return std::abs(pa[0] - pb[0]) < (a.w + b.w) / 2 + gap && std::abs(pa[1] - pb[1]) < (a.h + b.h) / 2 + gap;
}

}  // namespace

TEST(RoiLabels, FreeAnchorsKeepTheirPlace) {
  const std::vector<LabelBox> boxes = {{50, 20, 30, 10}, {150, 20, 30, 10}, {100, 80, 40, 12}};
  const auto at = place_labels(boxes, 200, 100, 60);
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    ASSERT_TRUE(at[i]) << i;
    EXPECT_EQ((*at[i])[0], boxes[i].cx);
    EXPECT_EQ((*at[i])[1], boxes[i].cy);
  }
}

TEST(RoiLabels, CrowdedAnchorsNeverOverlapAndStayInside) {
  // Thirty names of regions a few pixels apart (V1, V2, V3, V3A, ... around the occipital pole).
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(-6, 6);
  std::vector<LabelBox> boxes;
  for (int i = 0; i < 30; ++i) boxes.push_back({200 + jitter(rng), 150 + jitter(rng), 24.0 + i % 3 * 6, 11});
  const double gap = 2, radius = 120;
  const auto at = place_labels(boxes, 400, 300, radius, gap);
  int placed = 0;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    if (!at[i]) continue;
    ++placed;
    const auto& b = boxes[i];
    const auto& p = *at[i];
    EXPECT_GE(p[0] - b.w / 2, 0);
    EXPECT_GE(p[1] - b.h / 2, 0);
    EXPECT_LE(p[0] + b.w / 2, 400);
    EXPECT_LE(p[1] + b.h / 2, 300);
    // Within the search radius (the horizontal axis of the ring is stretched by w/h).
    EXPECT_LE(std::abs(p[1] - b.cy), radius + 1e-9);
    for (std::size_t j = 0; j < i; ++j) {
      if (at[j]) {
        EXPECT_FALSE(overlap(b, p, boxes[j], *at[j], gap)) << "names " << i << " and " << j << " overlap";
      }
    }
  }
  EXPECT_EQ(placed, 30) << "a 400 x 300 panel has room for thirty small names within 120 px";
  ASSERT_TRUE(at[0]);
  EXPECT_EQ((*at[0])[0], boxes[0].cx) << "the first name keeps its anchor";
}

TEST(RoiLabels, NoRoomMeansLeftOutNotDrawnOver) {
  // A panel with room for one name: the second cannot be placed anywhere.
  const std::vector<LabelBox> boxes = {{20, 10, 36, 16}, {22, 11, 36, 16}};
  const auto at = place_labels(boxes, 40, 20, 50);
  ASSERT_TRUE(at[0]);
  EXPECT_FALSE(at[1]);
  // Degenerate boxes (no text, NaN anchor) are skipped, not placed.
  const std::vector<LabelBox> bad = {{NAN, 10, 10, 10}, {10, 10, 0, 10}};
  const auto none = place_labels(bad, 100, 100, 50);
  EXPECT_FALSE(none[0]);
  EXPECT_FALSE(none[1]);
}

TEST(RoiLabels, AMovedNameStaysNearItsAnchor) {
  // Two names on the same anchor: the second goes just above or below the first, not far away.
  const std::vector<LabelBox> boxes = {{100, 100, 30, 10}, {100, 100, 30, 10}};
  const auto at = place_labels(boxes, 200, 200, 80);
  ASSERT_TRUE(at[0] && at[1]);
  EXPECT_NEAR((*at[1])[0], 100, 1e-9) << "stacked straight above or below";
  EXPECT_NEAR(std::abs((*at[1])[1] - 100), 15, 0.01) << "one ring step (h/2 = 5 px) beyond touching (10 + 2 px gap)";
}
