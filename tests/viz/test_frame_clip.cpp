// The stimulus frame's clip (src/viz/frame_clip) against matplotlib's own rendering of upstream's
// FancyBboxPatch(boxstyle="round,pad=0,rounding_size=200") clip, pixel by pixel, for frame shapes
// where the corners fit (850 x 480), overlap (640 x 360: dr > h / 2), cross (400 x 100) or wrap
// the whole box (64 x 36).
#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../../src/viz/frame_clip.hpp"
#include "support/test_support.hpp"
#include "viz_test_support.hpp"

namespace vtest = tribev2::viz::vtest;

namespace {

// matplotlib (Agg) draws a white rectangle clipped by the patch on black, one pixel per data
// unit, and writes the red channel / 255 as float64, row-major from the top.
const char* kMatplotlib = R"PY(
import numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, Rectangle
fig = plt.figure(figsize=(W / 100, H / 100), dpi=100, facecolor="black")
ax = fig.add_axes([0, 0, 1, 1], facecolor="black")
clip = FancyBboxPatch((0, 0), W, H, boxstyle=f"round,pad=0,rounding_size={DR}", transform=ax.transData,
                      clip_on=False, facecolor="none", edgecolor="none")
ax.add_patch(clip)
r = Rectangle((0, 0), W, H, facecolor="white", edgecolor="none")
ax.add_patch(r)
r.set_clip_path(clip)
ax.set_xlim(0, W); ax.set_ylim(H, 0); ax.axis("off")
fig.canvas.draw()
a = np.asarray(fig.canvas.buffer_rgba())[:, :, 0].astype(np.float64) / 255
assert a.shape == (H, W), a.shape
a.tofile(OUT)
)PY";

std::vector<double> ours(int w, int h, double dr) {
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> s(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(s.get()), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 0, 0, 0);
  cairo_paint(cr.get());
  tribev2::viz::detail::frame_clip_path(cr.get(), 0, 0, w, h, dr);
  cairo_clip(cr.get());
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  cairo_surface_flush(s.get());
  const unsigned char* d = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  std::vector<double> out(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint32_t px = 0;
      std::memcpy(&px, d + static_cast<std::ptrdiff_t>(y) * stride + 4 * x, 4);
      out[static_cast<std::size_t>(y) * w + x] = ((px >> 16) & 0xff) / 255.0;
    }
  return out;
}

}  // namespace

TEST(FrameClip, MatchesMatplotlibsRoundBox) {
  if (vtest::run_python("import matplotlib").code != 0)
    GTEST_SKIP() << "needs /usr/bin/python3 with matplotlib (scripts/install-deps.sh --test)";
  tribev2::test::TempDir tmp;
  struct Case {
    int w, h;
    double dr;
  };
  // The last: a small frame, whose self-crossing path covers the whole box (no rounding at all).
  for (const Case c :
       {Case{850, 480, 200}, Case{640, 360, 200}, Case{400, 100, 200}, Case{300, 300, 40}, Case{64, 36, 200}}) {
    const std::string out = (tmp / "mask.f64").string();
    const auto r = vtest::run_python("W, H, DR, OUT = " + std::to_string(c.w) + ", " + std::to_string(c.h) + ", " +
                                     std::to_string(c.dr) + ", '" + out + "'\n" + kMatplotlib);
    ASSERT_EQ(r.code, 0) << r.output;
    std::vector<double> ref(static_cast<std::size_t>(c.w) * static_cast<std::size_t>(c.h));
    std::ifstream in(out, std::ios::binary);
    in.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * sizeof(double)));
    ASSERT_TRUE(in) << "short matplotlib mask for " << c.w << "x" << c.h;
    const auto got = ours(c.w, c.h, c.dr);
    // Both rasterisers antialias the edge differently: a pixel may differ by its partial
    // coverage. At most one pixel per pixel of the box's perimeter differs by more than half,
    // and the covered areas agree to 0.05 pixel per pixel of perimeter.
    double area_ref = 0, area_got = 0;
    std::size_t flipped = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      area_ref += ref[i], area_got += got[i];
      if (std::abs(ref[i] - got[i]) > 0.5) ++flipped;
    }
    SCOPED_TRACE(std::to_string(c.w) + "x" + std::to_string(c.h) + " dr " + std::to_string(c.dr));
    EXPECT_LE(std::abs(area_got - area_ref), 0.05 * 2 * (c.w + c.h)) << "areas " << area_got << " vs " << area_ref;
    EXPECT_LE(flipped, static_cast<std::size_t>(2 * (c.w + c.h))) << flipped << " pixels differ by more than half";
    std::printf("  %dx%d, dr %.0f: covered %.1f (matplotlib %.1f), %zu pixels differ by more than half\n", c.w, c.h,
                c.dr, area_got, area_ref, flipped);
  }
}
