#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/movie.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {

// A smooth map over both hemispheres: value = sin of the vertex index.
std::vector<float> smooth_map(double phase = 0) {
  std::vector<float> v(static_cast<std::size_t>(kFsaverage5Outputs));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.002 * static_cast<double>(i) + phase));
  return v;
}

class Figures : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path dir = vtest::any_fsaverage5_dir(tmp_.path());
    surf_ = load_fsaverage5(dir, {});
  }
  tribev2::test::TempDir tmp_;
  Context ctx_{2};
  BrainSurface surf_;
};

int count_dark(const Image& img, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x)
      if (img.pixel(x, y)[0] < 100 && img.pixel(x, y)[1] < 100 && img.pixel(x, y)[2] < 100) ++n;
  return n;
}

std::string head(const fs::path& p, std::size_t n) { return tribev2::test::read_bytes(p).substr(0, n); }

}  // namespace

TEST(Layouts, PanelsAndParsing) {
  EXPECT_EQ(layout_panels(Layout::FourPanel, View::Lateral, HemiSet::Left).panels.size(), 4u);
  const auto lm = layout_panels(Layout::LateralMedial, View::Lateral, HemiSet::Left);
  EXPECT_EQ(lm.columns, 4);
  EXPECT_EQ(lm.panels[1].view, View::Medial);
  EXPECT_EQ(lm.panels[3].hemi, HemiSet::Right);
  EXPECT_THROW_MSG(layout_panels(Layout::Single, View::Lateral, HemiSet::Both), "needs one hemisphere");
  EXPECT_THROW_MSG(parse_layout("grid"), "layout must be");
  EXPECT_THROW_MSG(output_format_for("fig.jpg"), "unknown figure format '.jpg'");
  EXPECT_EQ(output_format_for("a/b/FIG.PDF"), OutputFormat::Pdf);
  EXPECT_EQ(time_label(12), "t = 12 s");
  EXPECT_EQ(time_label(12.5), "t = 12.5 s");
}

TEST_F(Figures, PngSizeDpiTitleAndColorbar) {
  const auto map = smooth_map();
  FigureOptions o;
  o.title = "Title";
  o.colorbar_label = "a.u.";
  o.dpi = 100;
  const MapFrame f{map, ""};
  const fs::path out = tmp_ / "fig.png";
  plot_maps(ctx_, surf_, std::span(&f, 1), o, out);
  const Image img = vtest::read_png(out);
  BrainFigure probe(ctx_, surf_, o, 1, false);
  EXPECT_EQ(img.width, probe.pixel_width());
  EXPECT_EQ(img.height, probe.pixel_height());
  // 2 x 2.4 in panels (240 px each at 100 dpi) + margins + colour bar.
  EXPECT_GT(img.width, 2 * 240 + 60);
  EXPECT_LT(img.width, 2 * 240 + 130);
  // The PNG records the DPI (pHYs: 3937 pixels per metre).
  const std::string bytes = tribev2::test::read_bytes(out);
  const auto pos = bytes.find("pHYs");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_EQ(static_cast<unsigned char>(bytes[pos + 6]) * 256 + static_cast<unsigned char>(bytes[pos + 7]), 3937);
  // Title text is drawn in the band at the top centre; the colour bar on the right.
  EXPECT_GT(count_dark(img, img.width / 2 - 60, 0, img.width / 2 + 60, 30), 20);
  int bar_columns = 0;
  for (int x = img.width * 4 / 5; x < img.width; ++x) {
    int coloured = 0;
    for (int y = 0; y < img.height; ++y)
      if (std::abs(img.pixel(x, y)[0] - img.pixel(x, y)[2]) > 60) ++coloured;
    if (coloured > 100) ++bar_columns;
  }
  EXPECT_GE(bar_columns, 8);
  // Panels are drawn: the centre of the top-left panel is not white.
  const auto* c = img.pixel(8 + 120, 30 + 90);
  EXPECT_LT(c[0] + c[1] + c[2], 3 * 250);
}

TEST_F(Figures, SvgPdfAndMosaic) {
  const auto a = smooth_map(0), b = smooth_map(1), c = smooth_map(2);
  std::vector<MapFrame> frames{{a, "t = 0 s"}, {b, "t = 1 s"}, {c, "t = 2 s"}};
  FigureOptions o;
  o.layout = Layout::Single;
  o.view = View::Lateral;
  o.hemi = HemiSet::Right;
  o.dpi = 72;
  plot_maps(ctx_, surf_, frames, o, tmp_ / "m.svg");
  plot_maps(ctx_, surf_, frames, o, tmp_ / "m.pdf");
  plot_maps(ctx_, surf_, frames, o, tmp_ / "m.png");
  EXPECT_NE(tribev2::test::read_bytes(tmp_ / "m.svg").find("<svg"), std::string::npos);
  EXPECT_EQ(head(tmp_ / "m.pdf", 5), "%PDF-");
  const Image img = vtest::read_png(tmp_ / "m.png");
  // Three panels in one row, each 2.4 in wide at 72 dpi, plus a label band under them.
  EXPECT_NEAR(img.width, 3 * 173 + 16 + 62, 3);
  // The time labels are drawn under the blocks.
  const int label_y = 8 + 130;
  EXPECT_GT(count_dark(img, 8, label_y, 8 + 3 * 173, label_y + 14), 30);
  o.size_in = std::pair{6.0, 2.0};
  plot_maps(ctx_, surf_, frames, o, tmp_ / "sized.png");
  const Image sized = vtest::read_png(tmp_ / "sized.png");
  EXPECT_EQ(sized.width, 6 * 72);
  EXPECT_EQ(sized.height, 2 * 72);
}

TEST_F(Figures, RgbMapAndErrors) {
  const auto r = smooth_map(0), g = smooth_map(2), b = smooth_map(4);
  FigureOptions o;
  o.layout = Layout::Lateral;
  o.dpi = 60;
  plot_rgb(ctx_, surf_, {r, g, b, ""}, o, tmp_ / "rgb.png");
  const Image img = vtest::read_png(tmp_ / "rgb.png");
  EXPECT_GT(img.width, 200);
  const std::vector<float> wrong(100);
  const MapFrame bad{wrong, ""};
  EXPECT_THROW_MSG(plot_maps(ctx_, surf_, std::span(&bad, 1), o, tmp_ / "x.png"), "must have 20484 values");
  o.dpi = 1;
  const MapFrame ok{r, ""};
  EXPECT_THROW_MSG(plot_maps(ctx_, surf_, std::span(&ok, 1), o, tmp_ / "x.png"), "dpi must be in");
  o.dpi = 100;
  o.cmap = "nope";
  EXPECT_THROW_MSG(plot_maps(ctx_, surf_, std::span(&ok, 1), o, tmp_ / "x.png"), "unknown colormap 'nope'");
}

TEST_F(Figures, MovieHasEveryFrame) {
  std::vector<float> rows;
  for (int r = 0; r < 4; ++r) {
    const auto m = smooth_map(r);
    rows.insert(rows.end(), m.begin(), m.end());
  }
  MovieOptions mo;
  mo.figure.layout = Layout::Single;
  mo.figure.dpi = 40;
  mo.fps = 2;
  mo.frames_per_row = 2;  // 3 interpolated gaps -> 7 frames
  const fs::path out = tmp_ / "brain.mp4";
  const std::string enc = write_movie(ctx_, surf_, rows, 4, {}, mo, out);
  EXPECT_TRUE(enc == "libx264" || enc == "mpeg4") << enc;
  AVFormatContext* fmt = nullptr;
  ASSERT_EQ(avformat_open_input(&fmt, out.c_str(), nullptr, nullptr), 0);
  ASSERT_GE(avformat_find_stream_info(fmt, nullptr), 0);
  ASSERT_EQ(fmt->nb_streams, 1u);
  const AVCodecParameters* par = fmt->streams[0]->codecpar;
  EXPECT_EQ(par->codec_id, enc == "libx264" ? AV_CODEC_ID_H264 : AV_CODEC_ID_MPEG4);
  EXPECT_EQ(par->width % 2, 0);
  AVPacket* pkt = av_packet_alloc();
  int frames = 0;
  while (av_read_frame(fmt, pkt) >= 0) {
    ++frames;
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  EXPECT_EQ(frames, 7);
  EXPECT_NEAR(av_q2d(fmt->streams[0]->avg_frame_rate), 2.0, 1e-9);
  avformat_close_input(&fmt);
  // No temporary files are left next to the movie.
  int n_files = 0;
  for (const auto& e : fs::directory_iterator(tmp_.path()))
    if (e.path().extension() == ".mp4") ++n_files;
  EXPECT_EQ(n_files, 1);
  EXPECT_THROW_MSG(write_movie(ctx_, surf_, rows, 5, {}, mo, out), "values for 5 rows");
  if (enc == "libx264") {
    MovieOptions bad = mo;
    bad.preset = "warp";
    EXPECT_THROW_MSG(write_movie(ctx_, surf_, rows, 4, {}, bad, tmp_ / "x.mp4"), "unknown libx264 preset 'warp'");
  }
  mo.encoder = "h265";
  EXPECT_THROW_MSG(write_movie(ctx_, surf_, rows, 4, {}, mo, tmp_ / "x.mp4"), "no video encoder 'h265'");
}

// upstream's interpolated_fps as the CLI and the Python package apply it: F frames per row at F
// fps, F rounded; out of [1, 120] (or not finite) is an error naming the option.
TEST(MovieOptionsTest, InterpolatedFps) {
  MovieOptions mo;
  set_interpolated_fps(mo, 10);
  EXPECT_EQ(mo.frames_per_row, 10);
  EXPECT_EQ(mo.fps, 10.0);
  set_interpolated_fps(mo, 2.6);
  EXPECT_EQ(mo.frames_per_row, 3);
  EXPECT_EQ(mo.fps, 3.0);
  set_interpolated_fps(mo, 1);
  EXPECT_EQ(mo.frames_per_row, 1);
  set_interpolated_fps(mo, 120);
  EXPECT_EQ(mo.frames_per_row, 120);
  EXPECT_THROW_MSG(set_interpolated_fps(mo, 0.5), "interpolated_fps must be in [1, 120] frames per second, got 0.5");
  EXPECT_THROW_MSG(set_interpolated_fps(mo, 121, "--interpolated-fps"), "--interpolated-fps must be in [1, 120]");
  EXPECT_THROW_MSG(set_interpolated_fps(mo, std::nan("")), "interpolated_fps must be in [1, 120]");
  EXPECT_THROW_MSG(set_interpolated_fps(mo, INFINITY), "interpolated_fps must be in [1, 120]");
  EXPECT_EQ(mo.frames_per_row, 120);  // unchanged by the failed calls
}
