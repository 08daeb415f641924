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

// Outlines (overlay_edges): one vertex ring per boundary. A strip of triangles over vertices
// 0..5 of each hemisphere: regions 0 0 1 1 2 2, other vertices in no region.
namespace {

tribev2::viz::BrainSurface strip_surface() {
  tribev2::viz::BrainSurface s;
  for (auto& h : s.hemi) {
    h.mesh.vertices.assign(static_cast<std::size_t>(3 * tribev2::viz::kFsaverage5Vertices), 0.0f);
    h.mesh.faces = {0, 1, 2, 1, 3, 2, 2, 3, 4, 3, 5, 4};
  }
  return s;
}

std::vector<char> marked(const tribev2::viz::detail::HemiEdges& e, int hemi) {
  return {e[static_cast<std::size_t>(hemi)].begin(), e[static_cast<std::size_t>(hemi)].begin() + 6};
}

}  // namespace

TEST(RoiOutlines, EveryBoundaryIsOneVertexRing) {
  tribev2::viz::RoiOverlay ov;
  ov.region.assign(static_cast<std::size_t>(tribev2::viz::kFsaverage5Outputs), -1);
  for (int h = 0; h < 2; ++h)
    for (int v = 0; v < 6; ++v) ov.region[static_cast<std::size_t>(h * tribev2::viz::kFsaverage5Vertices + v)] = v / 2;
  const auto surf = strip_surface();
  // Every region drawn: each boundary is painted on the side of the smaller region number only
  // (region 0's vertices on a face with region 1, region 1's on a face with region 2); region 2's
  // are not painted: it borders no larger drawn region, and unlabelled vertices count as undrawn.
  ov.outline_all = true;
  auto e = tribev2::viz::detail::overlay_edges(ov, surf);
  EXPECT_EQ(marked(e, 0), (std::vector<char>{1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(marked(e, 1), marked(e, 0));
  // Only region 2 named: its own side of its boundary with the undrawn region 1.
  ov.outline_all = false;
  ov.names = {{2, "R2"}};
  e = tribev2::viz::detail::overlay_edges(ov, surf);
  EXPECT_EQ(marked(e, 0), (std::vector<char>{0, 0, 0, 0, 1, 1}));
}
