#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/render.hpp"
#include "tribev2/viz/surface_colors.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {

struct Counts {
  int red = 0, blue = 0, grey = 0, drawn = 0;
};

// Classifies the drawn pixels of columns [x0, x1) of an image.
Counts classify(const Image& img, int x0, int x1) {
  Counts c;
  for (int y = 0; y < img.height; ++y)
    for (int x = x0; x < x1; ++x) {
      const auto* p = img.pixel(x, y);
      if (p[3] < 255) continue;
      ++c.drawn;
      const int r = p[0], g = p[1], b = p[2];
      // Relative tests: shading darkens colours at grazing angles (down to the ambient 0.35).
      if (r > b + 12 && 10 * r > 13 * b) ++c.red;
      else if (b > r + 12 && 10 * b > 13 * r) ++c.blue;
      else if (std::abs(r - g) <= 3 && std::abs(g - b) <= 3) ++c.grey;
    }
  return c;
}

// Horizontal extent of the drawn pixels.
std::pair<int, int> drawn_columns(const Image& img) {
  int lo = img.width, hi = -1;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (img.pixel(x, y)[3] > 0) lo = std::min(lo, x), hi = std::max(hi, x);
  return {lo, hi};
}

class RenderGeometry : public ::testing::Test {
 protected:
  void SetUp() override {
    bool real = false;
    const fs::path dir = vtest::any_fsaverage5_dir(tmp_.path(), &real);
    if (!real) std::cerr << "[ note ] real fsaverage5 absent: using the generated icosphere stand-in\n";
    SurfaceOptions so;
    so.surface = Surface::HalfInflated;
    surf_ = load_fsaverage5(dir, so);
  }

  // Renders one hemisphere (or both) coloured by one coordinate (0 x, 1 y, 2 z) with RdBu_r.
  Image render_coord(HemiSet hs, View view, int axis, double lim, std::optional<double> threshold = std::nullopt, int w = 240,
                     int h = 180) {
    std::vector<std::vector<Rgb>> colors(2);
    std::vector<std::vector<float>> normals(2);
    std::vector<RenderItem> items;
    const Colormap cmap = Colormap::get("RdBu_r");
    for (int hi = 0; hi < 2; ++hi) {
      if ((hs == HemiSet::Left && hi == 1) || (hs == HemiSet::Right && hi == 0)) continue;
      const Hemisphere& H = surf_.hemi[hi];
      std::vector<float> field;
      for (std::size_t i = 0; i < H.mesh.vertices.size(); i += 3) field.push_back(H.mesh.vertices[i + static_cast<std::size_t>(axis)]);
      float lo = INFINITY, top = -INFINITY;
      for (float v : H.background) lo = std::min(lo, v), top = std::max(top, v);
      std::vector<Rgb> bg(field.size());
      background_colors(H.background, lo, top, 0.7f, bg);
      ColorOptions co;
      co.limits = {-lim, lim};
      co.threshold = threshold;
      colors[static_cast<std::size_t>(hi)].resize(field.size());
      map_colors(field, bg, cmap, co, colors[static_cast<std::size_t>(hi)]);
      normals[static_cast<std::size_t>(hi)] = vertex_normals(H.mesh);
    }
    for (int hi = 0; hi < 2; ++hi)
      if (!colors[static_cast<std::size_t>(hi)].empty())
        items.push_back({&surf_.hemi[hi].mesh, normals[static_cast<std::size_t>(hi)], colors[static_cast<std::size_t>(hi)],
                         closed_mesh_winding(surf_.hemi[hi].mesh)});
    RenderOptions ro;
    ro.width = w;
    ro.height = h;
    return render(ctx_, items, camera_for(view, hs), ro);
  }

  tribev2::test::TempDir tmp_;
  Context ctx_{2};
  BrainSurface surf_;
};

}  // namespace

TEST(Icosphere, CountsAndOutwardNormals) {
  const Mesh m = make_icosphere(5);
  EXPECT_EQ(m.n_vertices(), kFsaverage5Vertices);
  EXPECT_EQ(m.n_faces(), kFsaverage5Faces);
  validate_mesh(m, "icosphere");
  const auto n = vertex_normals(m);
  for (std::size_t i = 0; i < m.vertices.size(); i += 3)
    ASSERT_GT(n[i] * m.vertices[i] + n[i + 1] * m.vertices[i + 1] + n[i + 2] * m.vertices[i + 2], 99.0f) << i / 3;
}

TEST(Camera, ScreenAxes) {
  // Left hemisphere, lateral: we look along +x, anterior (+y) is on the screen's left.
  const Camera c = camera_for(View::Lateral, HemiSet::Left);
  EXPECT_EQ(c.forward, (Vec3{1, 0, 0}));
  EXPECT_THROW_MSG(camera_for(View::Medial, HemiSet::Both), "needs one hemisphere");
  EXPECT_THROW_MSG(parse_view("sideways"), "view must be lateral");
}

TEST_F(RenderGeometry, LateralYFieldIsRedInFrontBlueBehind) {
  for (HemiSet hs : {HemiSet::Left, HemiSet::Right}) {
    const Image img = render_coord(hs, View::Lateral, 1, 40);
    const auto [lo, hi] = drawn_columns(img);
    ASSERT_LT(lo, hi);
    const int third = (hi - lo) / 3;
    const Counts left = classify(img, lo, lo + third), right = classify(img, hi - third, hi + 1);
    // Anterior (y > 0, red in RdBu_r) faces the left of the image for the left hemisphere's
    // lateral view and the right of it for the right hemisphere's.
    const Counts& front = hs == HemiSet::Left ? left : right;
    const Counts& back = hs == HemiSet::Left ? right : left;
    EXPECT_GT(front.red, 0.9 * front.drawn) << hemi_set_name(hs);
    EXPECT_GT(back.blue, 0.9 * back.drawn) << hemi_set_name(hs);
    EXPECT_GT(front.drawn, 1000);
  }
}

TEST_F(RenderGeometry, ThresholdShowsBackground) {
  const Image img = render_coord(HemiSet::Left, View::Lateral, 1, 40, /*threshold=*/1000.0);
  const auto [lo, hi] = drawn_columns(img);
  const Counts c = classify(img, lo, hi + 1);
  EXPECT_EQ(c.red, 0);
  EXPECT_EQ(c.blue, 0);
  EXPECT_GT(c.grey, 0.95 * c.drawn);
  // A threshold that keeps only |y| >= 30: the middle band turns grey, the ends keep colour.
  const Image part = render_coord(HemiSet::Left, View::Lateral, 1, 40, 30.0);
  const auto [a, b] = drawn_columns(part);
  const int mid = (a + b) / 2, w = (b - a) / 20;
  EXPECT_GT(classify(part, mid - w, mid + w).grey, 0.9 * classify(part, mid - w, mid + w).drawn);
  EXPECT_GT(classify(part, a, a + w).red, 0.9 * classify(part, a, a + w).drawn);
}

TEST_F(RenderGeometry, VentralViewSeesTheVentralSurface) {
  // Field = z: the ventral surface (z < 0) is blue, the dorsal one red.
  const Image ventral = render_coord(HemiSet::Both, View::Ventral, 2, 20);
  const Counts v = classify(ventral, 0, ventral.width);
  EXPECT_GT(v.blue, 0.85 * v.drawn);
  const Image dorsal = render_coord(HemiSet::Both, View::Dorsal, 2, 20);
  const Counts d = classify(dorsal, 0, dorsal.width);
  EXPECT_GT(d.red, 0.85 * d.drawn);
  // Dorsal view of both hemispheres, field = x: left hemisphere (x < 0, blue) on the left.
  const Image lr = render_coord(HemiSet::Both, View::Dorsal, 0, 20);
  const auto [lo, hi] = drawn_columns(lr);
  const int q = (hi - lo) / 4;
  EXPECT_GT(classify(lr, lo, lo + q).blue, 0.9 * classify(lr, lo, lo + q).drawn);
  EXPECT_GT(classify(lr, hi - q, hi + 1).red, 0.9 * classify(lr, hi - q, hi + 1).drawn);
}

TEST_F(RenderGeometry, AnteriorAndPosteriorViewsSeeTheirEnds) {
  const Image ant = render_coord(HemiSet::Both, View::Anterior, 1, 20);
  const Counts a = classify(ant, 0, ant.width);
  // The front is red; the rest is the near-white band around y = 0 and the sides of the
  // temporal lobes, which bulge out beyond the frontal lobe and are seen edge-on.
  EXPECT_GT(a.red, 0.75 * a.drawn);
  EXPECT_LT(a.blue, 0.1 * a.drawn);
  const Image post = render_coord(HemiSet::Both, View::Posterior, 1, 20);
  const Counts p = classify(post, 0, post.width);
  EXPECT_GT(p.blue, 0.75 * p.drawn);
  EXPECT_LT(p.red, 0.1 * p.drawn);
}

TEST(Render, MatchesReferenceTwinOnOddSizesAndThreads) {
  const Mesh m = make_icosphere(3, 40.0f);
  const auto normals = vertex_normals(m);
  std::vector<Rgb> colors;
  for (std::size_t i = 0; i < m.vertices.size(); i += 3)
    colors.push_back({0.5f + m.vertices[i] / 80, 0.5f + m.vertices[i + 1] / 80, 0.5f + m.vertices[i + 2] / 80});
  EXPECT_EQ(closed_mesh_winding(m), 1);
  for (int winding : {0, 1}) {
  const RenderItem item{&m, normals, colors, winding};
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {3, 5}, {17, 13}, {101, 77}, {64, 200}}) {
    for (int ss : {1, 2, 3}) {
      RenderOptions o;
      o.width = w;
      o.height = h;
      o.supersample = ss;
      const Camera cam{{0.3f, 1.0f, -0.4f}, {0, 0, 1}};
      const Image ref = reference::render(std::span(&item, 1), cam, o);
      for (int threads : {1, 2, 3}) {
        const Context ctx(threads);
        const Image got = render(ctx, std::span(&item, 1), cam, o);
        ASSERT_EQ(got.rgba, ref.rgba) << w << "x" << h << " ss=" << ss << " threads=" << threads << " winding=" << winding;
      }
    }
  }
  }
  // Culling hidden faces changes nothing visible on a closed mesh.
  RenderOptions o;
  o.width = 90;
  o.height = 70;
  const Context ctx(2);
  const Camera cam = camera_for(View::Anterior, HemiSet::Both);
  const RenderItem all{&m, normals, colors, 0}, front{&m, normals, colors, 1};
  EXPECT_EQ(render(ctx, std::span(&all, 1), cam, o).rgba, render(ctx, std::span(&front, 1), cam, o).rgba);
}

TEST(Mesh, ClosedWinding) {
  Mesh m = make_icosphere(1);
  EXPECT_EQ(closed_mesh_winding(m), 1);
  for (std::size_t t = 0; t < m.faces.size(); t += 3) std::swap(m.faces[t + 1], m.faces[t + 2]);
  EXPECT_EQ(closed_mesh_winding(m), -1);
  m.faces.resize(m.faces.size() - 3);  // a hole
  EXPECT_EQ(closed_mesh_winding(m), 0);
}

TEST(Render, FitsAndRejectsBadInput) {
  const Mesh m = make_icosphere(2, 10.0f);
  const auto normals = vertex_normals(m);
  const std::vector<Rgb> colors(static_cast<std::size_t>(m.n_vertices()), Rgb{1, 0, 0});
  const RenderItem item{&m, normals, colors};
  const Context ctx(1);
  RenderOptions o;
  o.width = 50;
  o.height = 40;
  o.margin = 0.1f;
  const Image img = render(ctx, std::span(&item, 1), camera_for(View::Dorsal, HemiSet::Both), o);
  // The sphere fits with 10% margins: the outer columns stay empty, the centre is drawn.
  const auto [lo, hi] = drawn_columns(img);
  EXPECT_GE(lo, 8);
  EXPECT_LE(hi, 41);
  EXPECT_EQ(img.pixel(25, 20)[3], 255);
  const std::vector<Rgb> short_colors(3);
  const RenderItem bad{&m, normals, short_colors};
  EXPECT_THROW_MSG(render(ctx, std::span(&bad, 1), camera_for(View::Dorsal, HemiSet::Both), o), "colours");
  o.supersample = 9;
  EXPECT_THROW_MSG(render(ctx, std::span(&item, 1), camera_for(View::Dorsal, HemiSet::Both), o), "supersample");
}
