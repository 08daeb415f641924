// nilearn's and colorcet's colormaps, upstream TRIBE's alpha colormaps and robust_normalize,
// and the stimulus rows of a figure.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "support/test_support.hpp"
#include "tribev2/viz/color_limits.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/surface_colors.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {
// LinearSegmentedColormap(name, segments, 256)._lut[i, :3] of nilearn's definitions
// (nilearn/plotting/cm.py) on matplotlib 3.6.3, and colorcet's fire, printed to 9 digits by the
// committed generator src/viz/tools/gen_colormap_data.py (its NILEARN_SEGMENTS rules).
struct LutValue {
  const char* name;
  int index;
  double rgb[3];
};
const LutValue kLut[] = {
    {"fire", 0, {0, 0, 0}},
    {"fire", 37, {0.32232, 0.0032974, 3.2915e-05}},
    {"fire", 127, {0.92445, 0.074684, 0}},
    {"fire", 128, {0.93061, 0.08131, 0}},
    {"fire", 201, {1, 0.71278, 0.0093486}},
    {"fire", 255, {1, 1, 1}},
    {"cold_hot", 0, {1, 1, 1}},
    {"cold_hot", 37, {0, 0.904901449, 1}},
    {"cold_hot", 127, {0, 0, 0.0518948441}},
    {"cold_hot", 128, {0.0518948441, 0, 0}},
    {"cold_hot", 201, {1, 0.554902017, 0}},
    {"cold_hot", 255, {1, 1, 1}},
    {"cold_white_hot", 0, {0, 0, 0.0416}},
    {"cold_white_hot", 37, {0, 0, 0.80341846}},
    {"cold_white_hot", 127, {0.984558808, 1, 1}},
    {"cold_white_hot", 128, {1, 1, 0.984558808}},
    {"cold_white_hot", 201, {1, 0.153432082, 0}},
    {"cold_white_hot", 255, {0.0416, 0, 0}},
    {"brown_blue", 0, {1, 1, 1}},
    {"brown_blue", 37, {0.746078374, 0.734191101, 0.621078431}},
    {"brown_blue", 127, {0.00477408355, 0.00343137121, 0.00343137255}},
    {"brown_blue", 128, {0.00343137255, 0.00343137121, 0.00477408355}},
    {"brown_blue", 201, {0.504411765, 0.573774461, 0.629411681}},
    {"brown_blue", 255, {1, 1, 1}},
    {"cyan_copper", 0, {0.4975, 0.7812, 1}},
    {"cyan_copper", 37, {0.353127451, 0.554498824, 0.876816403}},
    {"cyan_copper", 127, {0.00195098039, 0.00306352941, 0.00484428952}},
    {"cyan_copper", 128, {0.00484428952, 0.00306352941, 0.00195098039}},
    {"cyan_copper", 201, {0.712110559, 0.450338824, 0.286794118}},
    {"cyan_copper", 255, {1, 0.7812, 0.4975}},
    {"cyan_orange", 0, {0.898039216, 1, 1}},
    {"cyan_orange", 37, {0.485397924, 0.851103422, 0.996078431}},
    {"cyan_orange", 127, {0.0232833526, 0.146943483, 0.40627451}},
    {"cyan_orange", 128, {0.40627451, 0.146943483, 0.0232833526}},
    {"cyan_orange", 201, {0.996078431, 0.703160323, 0.25194925}},
    {"cyan_orange", 255, {1, 1, 0.898039216}},
    {"blue_red", 0, {0.941176471, 0.960784314, 1}},
    {"blue_red", 37, {0.572103037, 0.681630142, 0.988235294}},
    {"blue_red", 127, {0.051964629, 0.00184544406, 0.411549404}},
    {"blue_red", 128, {0.411549404, 0.00184544406, 0.051964629}},
    {"blue_red", 201, {0.986712803, 0.511649366, 0.38615917}},
    {"blue_red", 255, {1, 0.960784314, 0.941176471}},
    {"brown_cyan", 0, {1, 0.984313725, 0.968627451}},
    {"brown_cyan", 37, {0.919600154, 0.837385621, 0.726028451}},
    {"brown_cyan", 127, {0.425636294, 0.192295271, 0.031372549}},
    {"brown_cyan", 128, {0.031372549, 0.192295271, 0.425636294}},
    {"brown_cyan", 201, {0.541960784, 0.749527105, 0.865605536}},
    {"brown_cyan", 255, {0.968627451, 0.984313725, 1}},
    {"purple_green", 0, {0.988235294, 0.968627451, 0.960784314}},
    {"purple_green", 37, {0.893548635, 0.732472126, 0.706282199}},
    {"purple_green", 127, {0.27171088, 0, 0.107973856}},
    {"purple_green", 128, {0, 0.27171088, 0.107973856}},
    {"purple_green", 201, {0.562860438, 0.819008074, 0.551510957}},
    {"purple_green", 255, {0.968627451, 0.988235294, 0.960784314}},
    {"purple_blue", 0, {0.984313725, 0.968627451, 1}},
    {"purple_blue", 37, {0.837385621, 0.726028451, 0.919600154}},
    {"purple_blue", 127, {0.192295271, 0.031372549, 0.425636294}},
    {"purple_blue", 128, {0.031372549, 0.192295271, 0.425636294}},
    {"purple_blue", 201, {0.541960784, 0.749527105, 0.865605536}},
    {"purple_blue", 255, {0.968627451, 0.984313725, 1}},
    {"blue_orange", 0, {0.921568627, 0.960784314, 1}},
    {"blue_orange", 37, {0.565936178, 0.772810458, 0.992156863}},
    {"blue_orange", 127, {0.0155632449, 0.154786621, 0.50283737}},
    {"blue_orange", 128, {0.50283737, 0.154786621, 0.0155632449}},
    {"blue_orange", 201, {0.992156863, 0.632110727, 0.34805075}},
    {"blue_orange", 255, {1, 0.960784314, 0.921568627}},
    {"black_blue", 0, {0, 0, 0.0416}},
    {"black_blue", 37, {0, 0, 0.42250923}},
    {"black_blue", 127, {0, 0.349019999, 1}},
    {"black_blue", 128, {0, 0.3593141, 1}},
    {"black_blue", 201, {0.166175637, 1, 1}},
    {"black_blue", 255, {1, 1, 1}},
    {"black_purple", 0, {0, 0, 0.0416}},
    {"black_purple", 37, {0, 0, 0.42250923}},
    {"black_purple", 127, {0.349019999, 0, 1}},
    {"black_purple", 128, {0.3593141, 0, 1}},
    {"black_purple", 201, {1, 0.166175637, 1}},
    {"black_purple", 255, {1, 1, 1}},
    {"black_pink", 0, {0.0416, 0, 0}},
    {"black_pink", 37, {0.42250923, 0, 0}},
    {"black_pink", 127, {1, 0, 0.349019999}},
    {"black_pink", 128, {1, 0, 0.3593141}},
    {"black_pink", 201, {1, 0.166175637, 1}},
    {"black_pink", 255, {1, 1, 1}},
    {"black_green", 0, {0, 0.0416, 0}},
    {"black_green", 37, {0, 0.42250923, 0}},
    {"black_green", 127, {0.349019999, 1, 0}},
    {"black_green", 128, {0.3593141, 1, 0}},
    {"black_green", 201, {1, 1, 0.166175637}},
    {"black_green", 255, {1, 1, 1}},
    {"black_red", 0, {0.0416, 0, 0}},
    {"black_red", 37, {0.42250923, 0, 0}},
    {"black_red", 127, {1, 0.349019999, 0}},
    {"black_red", 128, {1, 0.3593141, 0}},
    {"black_red", 201, {1, 1, 0.166175637}},
    {"black_red", 255, {1, 1, 1}},
    {"ocean_hot", 0, {0, 0.5, 0}},
    {"ocean_hot", 37, {0, 0.0662283737, 0.289181084}},
    {"ocean_hot", 127, {0.988373702, 0.994186851, 0.996124567}},
    {"ocean_hot", 128, {1, 1, 0.984558808}},
    {"ocean_hot", 201, {1, 0.153432082, 0}},
    {"ocean_hot", 255, {0.0416, 0, 0}},
    {"hot_white_bone", 0, {0, 0, 0}},
    {"hot_white_bone", 37, {0.578362168, 0.101960784, 0}},
    {"hot_white_bone", 127, {1, 1, 0.992249135}},
    {"hot_white_bone", 128, {0.994638478, 0.996568627, 0.996568627}},
    {"hot_white_bone", 201, {0.370588235, 0.38976714, 0.495588122}},
    {"hot_white_bone", 255, {0, 0, 0}},
    {"hot_black_bone", 0, {1, 1, 1}},
    {"hot_black_bone", 37, {1, 0.898039216, 0.421637832}},
    {"hot_black_bone", 127, {0.00775086505, 0, 0}},
    {"hot_black_bone", 128, {0.00343137255, 0.00343137121, 0.00477408355}},
    {"hot_black_bone", 201, {0.504411765, 0.573774461, 0.629411681}},
    {"hot_black_bone", 255, {1, 1, 1}},
    {"roy_big_bl", 0, {0, 1, 1}},
    {"roy_big_bl", 37, {0, 0.899346405, 0}},
    {"roy_big_bl", 127, {0, 0, 0.167320261}},
    {"roy_big_bl", 128, {0, 0, 0.146405229}},
    {"roy_big_bl", 201, {0.870588235, 0, 0}},
    {"roy_big_bl", 255, {1, 1, 0}},
    {"videen_style", 0, {0, 0, 0}},
    {"videen_style", 37, {0.967581699, 0.967581699, 0.967581699}},
    {"videen_style", 127, {0.185098039, 0, 0.0925490196}},
    {"videen_style", 128, {0.214901961, 0, 0.10745098}},
    {"videen_style", 201, {0.0612687428, 0.697485582, 0.0612687428}},
    {"videen_style", 255, {1, 0, 0}},
};
}  // namespace

TEST(NilearnColormaps, LookupTableValues) {
  for (const auto& e : kLut) {
    const Rgb c = Colormap::get(e.name).entry(e.index);
    EXPECT_NEAR(c.r, e.rgb[0], 2e-7) << e.name << "[" << e.index << "]";
    EXPECT_NEAR(c.g, e.rgb[1], 2e-7) << e.name << "[" << e.index << "]";
    EXPECT_NEAR(c.b, e.rgb[2], 2e-7) << e.name << "[" << e.index << "]";
  }
}

// nilearn's rules, checked entry by entry against matplotlib's own tables (independent of the
// hard-coded values above): black_red is hot; black_blue/green/pink/purple permute hot's
// channels; cold_hot's upper half is hot squeezed into [0.5, 1] and its lower half hot mirrored
// with red and blue swapped.
TEST(NilearnColormaps, RulesAgainstMatplotlibTables) {
  const Colormap hot = Colormap::get("hot"), red = Colormap::get("black_red"), blue = Colormap::get("black_blue"),
                 green = Colormap::get("black_green"), pink = Colormap::get("black_pink"), purple = Colormap::get("black_purple");
  for (int i = 0; i < Colormap::kSize; ++i) {
    const Rgb h = hot.entry(i);
    EXPECT_EQ(red.entry(i).r, h.r);
    EXPECT_EQ(red.entry(i).g, h.g);
    EXPECT_EQ(red.entry(i).b, h.b);
    // _rotate_cmap(hot, (g_src, b_src, r_src)): green <- g_src, blue <- b_src, red <- r_src.
    EXPECT_EQ(blue.entry(i).g, h.g);  // ("green", "red", "blue")
    EXPECT_EQ(blue.entry(i).b, h.r);
    EXPECT_EQ(blue.entry(i).r, h.b);
    EXPECT_EQ(green.entry(i).g, h.r);  // ("red", "blue", "green")
    EXPECT_EQ(green.entry(i).b, h.b);
    EXPECT_EQ(green.entry(i).r, h.g);
    EXPECT_EQ(pink.entry(i).g, h.b);  // ("blue", "green", "red")
    EXPECT_EQ(pink.entry(i).b, h.g);
    EXPECT_EQ(pink.entry(i).r, h.r);
    EXPECT_EQ(purple.entry(i).g, h.b);  // ("blue", "red", "green")
    EXPECT_EQ(purple.entry(i).b, h.r);
    EXPECT_EQ(purple.entry(i).r, h.g);
  }
  // cold_white_hot is nilearn's mirrored hot_r: white in the middle (hot_r(0)), dark red at the
  // top (hot_r(1) = hot(0)) and, with red and blue swapped, dark blue at the bottom.
  const Colormap cwh = Colormap::get("cold_white_hot");
  EXPECT_NEAR(cwh.entry(128).r, 1.0, 0.02);
  EXPECT_NEAR(cwh.entry(128).g, 1.0, 0.02);
  EXPECT_NEAR(cwh.entry(255).r, 0.0416, 1e-6);  // hot_r(1) = hot(0)
  EXPECT_NEAR(cwh.entry(0).b, 0.0416, 1e-6);    // its mirror, red -> blue
  // Reversal: the "_r" of a nilearn map is its table read backwards (the generator asserts this
  // against nilearn's own _revcmap rule).
  const Colormap f = Colormap::get("fire"), fr = Colormap::get("fire_r");
  for (int i = 0; i < Colormap::kSize; ++i) EXPECT_EQ(f.entry(i).g, fr.entry(Colormap::kSize - 1 - i).g);
  for (const char* n : {"cold_white_hot", "black_red", "black_blue", "fire", "roy_big_bl", "ocean_hot", "cold_hot_r"})
    EXPECT_NO_THROW(Colormap::get(n)) << n;
}

// upstream's get_alpha_cmap(cmap, threshold=0, scale=0.2): 1024 entries; alpha ramps over
// indices [0, int(0.2 * 1023) = 204) as linspace(0, 1, 204), then 1.
TEST(AlphaColormap, UpstreamRampAndLookup) {
  const Colormap base = Colormap::get("fire");
  const Colormap a = Colormap::get("fire", 0.0, 0.2);
  ASSERT_TRUE(a.has_alpha());
  EXPECT_EQ(a.size(), 1024);
  EXPECT_FLOAT_EQ(a.alpha_entry(0), 0.0f);
  EXPECT_FLOAT_EQ(a.alpha_entry(1), static_cast<float>(1.0 / 203));
  EXPECT_FLOAT_EQ(a.alpha_entry(102), static_cast<float>(102.0 / 203));
  EXPECT_FLOAT_EQ(a.alpha_entry(203), 1.0f);
  EXPECT_FLOAT_EQ(a.alpha_entry(204), 1.0f);
  EXPECT_FLOAT_EQ(a.alpha_entry(1023), 1.0f);
  // x = 0.1: entry floor(102.4) = 102, whose colour is fire(linspace(0,1,1024)[102]) =
  // fire entry floor(102 / 1023 * 256) = 25.
  Rgba c = a.rgba(0.1);
  EXPECT_FLOAT_EQ(c.a, static_cast<float>(102.0 / 203));
  EXPECT_EQ(c.r, base.entry(25).r);
  EXPECT_EQ(c.g, base.entry(25).g);
  c = a.rgba(0.7);  // entry 716 -> fire entry floor(179.17) = 179
  EXPECT_EQ(c.a, 1.0f);
  EXPECT_EQ(c.r, base.entry(179).r);
  EXPECT_EQ(a.rgba(1.0).g, base.entry(255).g);
  EXPECT_EQ(a.rgba(-0.5).a, 0.0f);  // under: the first entry, transparent
  // threshold 0.5, scale 0.25: zeros below int(511.5) = 511, ramp over [511, int(767.25) = 767).
  const Colormap b = Colormap::get("hot", 0.5, 0.25);
  EXPECT_EQ(b.alpha_entry(510), 0.0f);
  EXPECT_EQ(b.alpha_entry(511), 0.0f);
  EXPECT_FLOAT_EQ(b.alpha_entry(512), static_cast<float>(1.0 / 255));
  EXPECT_FLOAT_EQ(b.alpha_entry(766), 1.0f);
  EXPECT_FLOAT_EQ(b.alpha_entry(767), 1.0f);
  // seismic and bwr get the folded ramp: concatenate(alpha[::-2], alpha[::2]).
  const Colormap s = Colormap::get("seismic", 0.0, 0.2);
  EXPECT_FLOAT_EQ(s.alpha_entry(0), 1.0f);                                  // alpha[1023]
  EXPECT_FLOAT_EQ(s.alpha_entry(511), static_cast<float>(1.0 / 203));       // alpha[1]
  EXPECT_FLOAT_EQ(s.alpha_entry(512), 0.0f);                                // alpha[0]
  EXPECT_FLOAT_EQ(s.alpha_entry(613), static_cast<float>(202.0 / 203));     // alpha[202]
  EXPECT_FLOAT_EQ(s.alpha_entry(614), 1.0f);                                // alpha[204]
  EXPECT_FALSE(Colormap::get("hot_r", 0.0, 0.2).alpha_entry(0) > 0);
  EXPECT_THROW_MSG(Colormap::get("fire", 1.5, 0.2), "threshold must be in [0, 1]");
  EXPECT_THROW_MSG(Colormap::get("fire", 0.0, 0.0), "scale must be > 0");
}

// nilearn's mix_colormaps over the opaque background: rgb * a + bg * (1 - a); bg_on_data
// replaces the opacity by 0.7.
TEST(AlphaColormap, MixedOverTheBackground) {
  const Colormap a = Colormap::get("fire", 0.0, 0.2);
  const std::vector<float> v{0.1f, 0.9f, -1.0f, NAN};
  const std::vector<Rgb> bg(4, Rgb{0.5f, 0.5f, 0.5f});
  std::vector<Rgb> out(4);
  ColorOptions o;
  o.limits = {0.0, 1.0};
  map_colors(v, bg, a, o, out);
  const Rgba c = a.rgba(0.1f);
  EXPECT_NEAR(out[0].r, c.a * c.r + (1 - c.a) * 0.5f, 1e-6);
  EXPECT_NEAR(out[0].g, c.a * c.g + (1 - c.a) * 0.5f, 1e-6);
  const Rgba d = a.rgba(0.9f);
  EXPECT_NEAR(out[1].r, d.r, 1e-6);  // opaque
  EXPECT_NEAR(out[2].r, 0.5f, 1e-6);  // under: transparent entry 0
  EXPECT_NEAR(out[3].r, 0.5f, 1e-6);  // NaN: background
  o.bg_on_data = true;
  map_colors(v, bg, a, o, out);
  EXPECT_NEAR(out[1].r, 0.7f * d.r + 0.3f * 0.5f, 1e-6);
}

// upstream's robust_normalize(x, percentile=P): lo/hi = numpy percentiles (linear), clipped.
TEST(RobustNormalize, PercentilesAndClipping) {
  std::vector<float> v(101);
  std::iota(v.begin(), v.end(), 0.0f);  // 0..100: percentile q is q
  const auto [lo, hi] = robust_normalize(v, 99);
  EXPECT_DOUBLE_EQ(lo, 1.0);
  EXPECT_DOUBLE_EQ(hi, 99.0);
  EXPECT_FLOAT_EQ(v[0], 0.0f);
  EXPECT_FLOAT_EQ(v[1], 0.0f);
  EXPECT_FLOAT_EQ(v[50], 49.0f / 98.0f);
  EXPECT_FLOAT_EQ(v[99], 1.0f);
  EXPECT_FLOAT_EQ(v[100], 1.0f);
  // 4 values: numpy.percentile([3, 1, 4, 2], 90) = 3.7, 10 -> 1.3.
  std::vector<float> w{3, 1, 4, 2};
  const auto r = robust_normalize(w, 90);
  EXPECT_NEAR(r.first, 1.3, 1e-12);
  EXPECT_NEAR(r.second, 3.7, 1e-12);
  EXPECT_NEAR(w[0], (3 - 1.3) / 2.4, 1e-7);
  EXPECT_EQ(w[1], 0.0f);
  EXPECT_EQ(w[2], 1.0f);
  std::vector<float> c(5, 2.0f);
  robust_normalize(c, 99);
  EXPECT_EQ(c[0], 0.0f);
  EXPECT_THROW_MSG(robust_normalize(c, 101), "norm percentile must be in [0, 100]");
}

// The stimulus rows: a frame per block (red test image), the waveform (dark band) and the words.
TEST(StimulusStrip, LayoutPixels) {
  tribev2::test::TempDir tmp;
  const BrainSurface surf = load_fsaverage5(vtest::any_fsaverage5_dir(tmp.path()), {});
  const Context ctx(2);
  std::vector<float> a(static_cast<std::size_t>(kFsaverage5Outputs)), b(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 100) / 100, b[i] = 1 - a[i];
  auto strip = std::make_shared<StimulusStrip>();
  for (int f = 0; f < 2; ++f) {
    StimulusStrip::Image img;
    img.width = 64;  // downscaled from a 640 x 360 video: rounded by 200 of its 640 pixels
    img.height = 36;
    img.source_width = 640;
    img.rgb.assign(64 * 36 * 3, 0);
    for (std::size_t p = 0; p < img.rgb.size(); p += 3) img.rgb[p + (f == 0 ? 0 : 2)] = 255;  // red, then blue
    strip->frames.push_back(img);
  }
  for (int i = 0; i < 8000; ++i) strip->waveform.push_back(static_cast<float>(std::sin(i * 0.05)));
  strip->words = {{0.1, "hello"}, {0.6, "world"}};
  FigureOptions o;
  o.layout = Layout::Single;
  o.cmap = "fire";
  o.alpha_cmap = std::pair{0.0, 0.2};
  o.limits.vmin = 0.6;
  o.dpi = 72;
  o.stimuli = strip;
  const std::vector<MapFrame> frames{{a, "t = 0 s"}, {b, "t = 1 s"}};
  plot_maps(ctx, surf, frames, o, tmp / "strip.png");
  const Image img = vtest::read_png(tmp / "strip.png");
  if (const char* keep = std::getenv("TRIBEV2_KEEP_STRIP")) std::filesystem::copy_file(tmp / "strip.png", keep, std::filesystem::copy_options::overwrite_existing);
  BrainFigure probe(ctx, surf, o, 2, true);
  ASSERT_EQ(img.width, probe.pixel_width());
  // Panel 173 x 130 px at 72 dpi; the stimulus rows take 0.7 + 0.3 + 0.3 of a panel height.
  const int panel_w = 173, panel_h = 130, pad = 8, label_w = 16;
  EXPECT_NEAR(img.height, 2 * pad + 1.3 * panel_h + panel_h + 14, 3);
  const int x0 = pad + label_w, y_video = pad;
  // Centre of each video cell: the frame's colour.
  const auto* r = img.pixel(x0 + panel_w / 2, y_video + static_cast<int>(0.35 * panel_h));
  EXPECT_GT(r[0], 200);
  EXPECT_LT(r[2], 60);
  const auto* bl = img.pixel(x0 + panel_w + panel_w / 2, y_video + static_cast<int>(0.35 * panel_h));
  EXPECT_GT(bl[2], 200);
  EXPECT_LT(bl[0], 60);
  // Rounded corners: the top-left corner of the (fitted, centred) frame stays white.
  const double sc = std::min(static_cast<double>(panel_w) / 64, 0.7 * panel_h / 36);
  const int fx = x0 + static_cast<int>((panel_w - 64 * sc) / 2), fy = y_video + static_cast<int>((0.7 * panel_h - 36 * sc) / 2);
  EXPECT_GT(img.pixel(fx + 1, fy + 1)[1], 240);
  // The waveform row: many black pixels across both blocks.
  const int y_audio = y_video + static_cast<int>(0.7 * panel_h);
  int dark = 0;
  for (int y = y_audio; y < y_audio + static_cast<int>(0.3 * panel_h); ++y)
    for (int x = x0; x < x0 + 2 * panel_w; ++x)
      if (img.pixel(x, y)[0] < 60) ++dark;
  EXPECT_GT(dark, 2 * panel_w);
  // Words: dark text pixels near x = 0.1 and 0.6 of the strip in the text row.
  const int y_text = y_audio + static_cast<int>(0.3 * panel_h);
  auto ink = [&](double fx_) {
    int n = 0;
    const int cx = x0 + static_cast<int>(fx_ * 2 * panel_w);
    for (int y = y_text + 2; y < y_text + static_cast<int>(0.3 * panel_h); ++y)  // the text row only (waveform above, brains below)
      for (int x = cx - 25; x < cx + 25; ++x)
        if (img.pixel(x, y)[0] < 100) ++n;
    return n;
  };
  EXPECT_GT(ink(0.1), 20);
  EXPECT_GT(ink(0.6), 20);
  EXPECT_LT(ink(0.35), 5);
  // Brains below: values < vmin show the grey background (transparent alpha entry), others fire.
  int coloured = 0;
  for (int y = y_text + static_cast<int>(0.3 * panel_h); y < img.height - 20; ++y)
    for (int x = x0; x < x0 + 2 * panel_w; ++x) {
      const auto* p = img.pixel(x, y);
      if (p[0] > p[2] + 80) ++coloured;
    }
  EXPECT_GT(coloured, 500);
  // A wrong frame count is refused.
  strip->frames.pop_back();
  EXPECT_THROW_MSG(plot_maps(ctx, surf, frames, o, tmp / "x.png"), "1 video frames for 2 maps");
}
