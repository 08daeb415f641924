#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/viz/color_limits.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/surface_colors.hpp"

using namespace tribev2;
using namespace tribev2::viz;

namespace {
// matplotlib 3.6.3 (Debian python3-matplotlib) values of cmap(x)[:3] for these x; cold_hot is
// nilearn's rule rebuilt with matplotlib (see src/viz/tools/gen_colormap_data.py).
const double kX[] = {0.0, 0.1, 0.25, 0.5, 0.73, 0.999, 1.0, 1.2, -0.3};
struct Expected {
  const char* name;
  double rgb[9][3];
};
const Expected kExpected[] = {
    {"RdBu_r", {{0.0196078431, 0.188235294, 0.380392157}, {0.127258747, 0.395847751, 0.668742791}, {0.420684352, 0.676432141, 0.818685121}, {0.969088812, 0.966474433, 0.964936563}, {0.922260669, 0.567474048, 0.448673587}, {0.403921569, 0, 0.121568627}, {0.403921569, 0, 0.121568627}, {0.403921569, 0, 0.121568627}, {0.0196078431, 0.188235294, 0.380392157}}},
    {"coolwarm", {{0.2298057, 0.298717966, 0.753683153}, {0.348323341, 0.465711147, 0.888346163}, {0.55431187, 0.690097011, 0.995515548}, {0.867427635, 0.8643766, 0.862602462}, {0.963806056, 0.634188415, 0.513720849}, {0.705673158, 0.01555616, 0.150232812}, {0.705673158, 0.01555616, 0.150232812}, {0.705673158, 0.01555616, 0.150232812}, {0.2298057, 0.298717966, 0.753683153}}},
    {"cold_hot", {{1, 1, 1}, {0.227940404, 1, 1}, {0, 0.349019999, 1}, {0.0518948441, 0, 0}, {1, 0.24607899, 0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
    {"bwr", {{0, 0, 1}, {0.196078431, 0.196078431, 1}, {0.501960784, 0.501960784, 1}, {1, 0.996078431, 0.996078431}, {1, 0.541176471, 0.541176471}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {0, 0, 1}}},
    {"seismic", {{0, 0, 0.3}, {0, 0, 0.574509804}, {0.00392156863, 0.00392156863, 1}, {1, 0.992156863, 0.992156863}, {1, 0.0823529412, 0.0823529412}, {0.5, 0, 0}, {0.5, 0, 0}, {0.5, 0, 0}, {0, 0, 0.3}}},
    {"hot", {{0.0416, 0, 0}, {0.298971101, 0, 0}, {0.700470019, 0, 0}, {1, 0.3593141, 0}, {1, 0.956371953, 0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0.0416, 0, 0}}},
    {"viridis", {{0.267004, 0.004874, 0.329415}, {0.282623, 0.140926, 0.457517}, {0.229739, 0.322361, 0.545706}, {0.127568, 0.566949, 0.550556}, {0.319809, 0.770914, 0.411152}, {0.993248, 0.906157, 0.143936}, {0.993248, 0.906157, 0.143936}, {0.993248, 0.906157, 0.143936}, {0.267004, 0.004874, 0.329415}}},
    {"plasma", {{0.050383, 0.029803, 0.527975}, {0.254627, 0.013882, 0.615419}, {0.494877, 0.01199, 0.657865}, {0.798216, 0.280197, 0.469538}, {0.963203, 0.553865, 0.271909}, {0.940015, 0.975158, 0.131326}, {0.940015, 0.975158, 0.131326}, {0.940015, 0.975158, 0.131326}, {0.050383, 0.029803, 0.527975}}},
    {"inferno", {{0.001462, 0.000466, 0.013866}, {0.087411, 0.044556, 0.224813}, {0.3415, 0.062325, 0.429425}, {0.735683, 0.215906, 0.330245}, {0.969163, 0.515946, 0.063488}, {0.988362, 0.998364, 0.644924}, {0.988362, 0.998364, 0.644924}, {0.988362, 0.998364, 0.644924}, {0.001462, 0.000466, 0.013866}}},
};
}  // namespace

TEST(Colormap, MatchesMatplotlibLookupTables) {
  test::MaxDiff worst;
  for (const auto& e : kExpected) {
    const Colormap c = Colormap::get(e.name);
    for (int i = 0; i < 9; ++i) {
      const Rgb got = c(kX[i]);
      const float g[3] = {got.r, got.g, got.b};
      for (int k = 0; k < 3; ++k) {
        // Tables hold float32 of matplotlib's float64 values; the references are printed to 9 digits.
        EXPECT_NEAR(g[k], e.rgb[i][k], 2e-7) << e.name << " at x=" << kX[i] << " channel " << k;
        worst.add(g[k], e.rgb[i][k]);
      }
    }
  }
  RecordProperty("max_abs_error", std::to_string(worst.abs()));
}

TEST(Colormap, ReversedAndNames) {
  const Colormap a = Colormap::get("viridis"), r = Colormap::get("viridis_r");
  for (int i = 0; i < Colormap::kSize; ++i) {
    EXPECT_EQ(a.entry(i).r, r.entry(Colormap::kSize - 1 - i).r);
    EXPECT_EQ(a.entry(i).b, r.entry(Colormap::kSize - 1 - i).b);
  }
  // RdBu_r reversed again is matplotlib's RdBu: red at 0.
  EXPECT_GT(Colormap::get("RdBu")(0.0).r, 0.4f);
  EXPECT_THROW_MSG(Colormap::get("jet"), "unknown colormap 'jet' (known: RdBu_r, coolwarm");
  EXPECT_THROW_MSG(Colormap::get("viridis_r_r"), "unknown colormap");
}

TEST(ColorLimits, NilearnDefaultsAndPercentiles) {
  const std::vector<float> v = {3.0f, -1.5f, 2.25f, 7.0f, 0.5f, -4.0f, 1.0f, NAN};
  // numpy.percentile of the finite values (computed with numpy 1.24).
  EXPECT_DOUBLE_EQ(percentile(v, 0), -4.0);
  EXPECT_NEAR(percentile(v, 10), -2.5, 1e-12);
  EXPECT_NEAR(percentile(v, 25), -0.5, 1e-12);
  EXPECT_NEAR(percentile(v, 50), 1.0, 1e-12);
  EXPECT_NEAR(percentile(v, 90), 4.6, 1e-12);
  EXPECT_NEAR(percentile(v, 99), 6.76, 1e-12);
  EXPECT_NEAR(abs_percentile(v, 99), 6.82, 1e-12);

  LimitOptions o;  // auto: both signs -> symmetric +-max|v|
  auto l = compute_limits(v, o);
  EXPECT_EQ(l.vmin, -7.0);
  EXPECT_EQ(l.vmax, 7.0);
  o.percentile = 99;
  l = compute_limits(v, o);
  EXPECT_NEAR(l.vmax, 6.82, 1e-12);
  EXPECT_NEAR(l.vmin, -6.82, 1e-12);
  o.symmetric = Symmetric::No;
  l = compute_limits(v, o);
  EXPECT_NEAR(l.vmin, percentile(v, 1), 1e-12);
  EXPECT_NEAR(l.vmax, 6.76, 1e-12);
  const std::vector<float> pos = {1.0f, 2.0f, 5.0f};
  l = compute_limits(pos, {});
  EXPECT_EQ(l.vmin, 1.0);
  EXPECT_EQ(l.vmax, 5.0);
  LimitOptions given;
  given.vmax = 3.0;
  l = compute_limits(v, given);  // one limit + data of both signs: symmetric
  EXPECT_EQ(l.vmin, -3.0);
  given.vmin = 0.5;
  l = compute_limits(v, given);
  EXPECT_EQ(l.vmin, 0.5);
  EXPECT_EQ(l.vmax, 3.0);
  const std::vector<float> zeros(5, 0.0f);
  l = compute_limits(zeros, {});
  EXPECT_LT(l.vmin, l.vmax);
  LimitOptions bad;
  bad.vmin = 2;
  bad.vmax = 1;
  EXPECT_THROW_MSG(compute_limits(v, bad), "vmin (2) must be below vmax (1)");
  EXPECT_THROW_MSG(percentile(v, 101), "percentile must be in [0, 100]");
}

TEST(ColorLimits, TicksFollowThreshold) {
  EXPECT_EQ(colorbar_ticks({-2, 2}, std::nullopt), (std::vector<double>{-2, -1, 0, 1, 2}));
  EXPECT_EQ(colorbar_ticks({-2, 2}, 0.8), (std::vector<double>{-2, -0.8, 0, 0.8, 2}));
  // nilearn: 0 is among the closest -> the first and third closest are moved.
  EXPECT_EQ(colorbar_ticks({-2.2, 2.2}, 0.5), (std::vector<double>{-2.2, -0.5, 0, 0.5, 2.2}));
  // One-signed range: -threshold lands below vmin on the first tick, which is clamped to vmin.
  EXPECT_EQ(colorbar_ticks({0, 4}, 1.0), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(colorbar_ticks({-2, 2}, 0.1), (std::vector<double>{-2, -1, 0, 1, 2}));  // tiny: left alone
}

TEST(SurfaceColors, ThresholdNanAndBackground) {
  const std::vector<float> bg_map = {-1.0f, 1.0f, 0.0f, 0.0f};
  std::vector<Rgb> bg(4);
  background_colors(bg_map, -1.0f, 1.0f, 0.7f, bg);
  EXPECT_FLOAT_EQ(bg[0].r, 1.0f);   // shallowest: white
  EXPECT_FLOAT_EQ(bg[1].r, 0.3f);   // deepest: 1 - darkness
  EXPECT_FLOAT_EQ(bg[2].g, 0.65f);
  const std::vector<float> values = {0.05f, -2.0f, NAN, 2.0f};
  std::vector<Rgb> out(4);
  ColorOptions co;
  co.limits = {-2, 2};
  co.threshold = 0.1;
  const Colormap c = Colormap::get("RdBu_r");
  map_colors(values, bg, c, co, out);
  EXPECT_EQ(out[0].r, bg[0].r);  // below threshold: background
  EXPECT_EQ(out[2].g, bg[2].g);  // NaN: background
  EXPECT_EQ(out[1].b, c(0.0).b);
  EXPECT_EQ(out[3].r, c(1.0).r);
  // RGB contributions: min 0, 95th percentile of all values -> 1.
  std::vector<float> r = {0, 1, 2, 3}, g = {0, 0, 0, 10}, b = {1, 1, 1, 1};
  std::vector<Rgb> rgb(4);
  rgb_contributions(r, g, b, 100.0, rgb);
  EXPECT_FLOAT_EQ(rgb[3].g, 1.0f);
  EXPECT_FLOAT_EQ(rgb[2].r, 0.2f);
  EXPECT_FLOAT_EQ(rgb[0].b, 0.1f);
}
