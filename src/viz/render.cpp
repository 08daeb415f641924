#include "tribev2/viz/render.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tribev2/core/error.hpp"

namespace tribev2::viz {

namespace {

Vec3 normalized(Vec3 v) {
  const float l = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  TRIBEV2_CHECK(l > 0, "camera vector must not be zero");
  return {v[0] / l, v[1] / l, v[2] / l};
}
float dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

// Orthonormal camera frame: f into the scene, u up, r = f x u to the right of the screen.
struct Frame {
  Vec3 f, u, r;
};
Frame make_frame(const Camera& c) {
  const Vec3 f = normalized(c.forward);
  const float d = dot(c.up, f);
  const Vec3 u = normalized({c.up[0] - d * f[0], c.up[1] - d * f[1], c.up[2] - d * f[2]});
  return {f, u, cross(f, u)};
}

struct Extent {
  float r0 = INFINITY, r1 = -INFINITY, u0 = INFINITY, u1 = -INFINITY;
};
Extent projected_extent(std::span<const RenderItem> items, const Frame& fr) {
  Extent e;
  for (const auto& it : items) {
    const auto& v = it.mesh->vertices;
    for (std::size_t i = 0; i + 2 < v.size(); i += 3) {
      const Vec3 p{v[i], v[i + 1], v[i + 2]};
      const float pr = dot(p, fr.r), pu = dot(p, fr.u);
      e.r0 = std::min(e.r0, pr);
      e.r1 = std::max(e.r1, pr);
      e.u0 = std::min(e.u0, pu);
      e.u1 = std::max(e.u1, pu);
    }
  }
  return e;
}

// Sample coordinates are fixed point with 8 fractional bits, so edge functions are exact
// integers: neighbouring triangles neither overlap nor leave cracks, and incremental stepping
// gives exactly the directly evaluated values.
constexpr int kSubBits = 8;
constexpr std::int64_t kOne = std::int64_t{1} << kSubBits;
constexpr std::int64_t kHalf = kOne / 2;
constexpr std::int64_t kMaxFixed = std::int64_t{1} << 28;  // triangles beyond this are skipped

// Everything the rasteriser needs, in sample (supersampled pixel) coordinates.
struct Scene {
  int w = 0, h = 0;                  // samples
  std::vector<std::int64_t> x, y;    // fixed-point position per vertex (all items concatenated)
  std::vector<float> z;              // depth along the view direction (smaller is nearer)
  std::vector<float> rgb;            // shaded colour per vertex
  std::vector<std::int32_t> tris;    // global vertex indices of the triangles to draw
};

}  // namespace

std::array<float, 2> project_point(std::span<const RenderItem> items, const Camera& camera, const RenderOptions& o, const Vec3& p) {
  const Frame fr = make_frame(camera);
  const Extent e = projected_extent(items, fr);
  const float scale = o.scale ? *o.scale : fit_scale(items, camera, o.width, o.height, o.margin);
  const double cr = std::isfinite(e.r0) ? 0.5 * (e.r0 + e.r1) : 0.0, cu = std::isfinite(e.u0) ? 0.5 * (e.u0 + e.u1) : 0.0;
  // The same mapping as build_scene's, at pixel rather than sample resolution.
  return {static_cast<float>(0.5 * o.width + scale * (dot(p, fr.r) - cr)), static_cast<float>(0.5 * o.height - scale * (dot(p, fr.u) - cu))};
}

namespace {

Scene build_scene(std::span<const RenderItem> items, const Camera& camera, const RenderOptions& o) {
  TRIBEV2_CHECK(o.width > 0 && o.height > 0 && o.width <= 16384 && o.height <= 16384, "render: image size ", o.width, "x",
                o.height, " is out of range");
  TRIBEV2_CHECK(o.supersample >= 1 && o.supersample <= 4, "render: supersample must be 1 to 4, got ", o.supersample);
  const Frame fr = make_frame(camera);
  const Extent e = projected_extent(items, fr);
  const float scale = o.scale ? *o.scale : fit_scale(items, camera, o.width, o.height, o.margin);
  TRIBEV2_CHECK(scale > 0 && std::isfinite(scale), "render: scale must be positive, got ", scale);
  const double s = static_cast<double>(scale) * o.supersample;
  Scene sc;
  sc.w = o.width * o.supersample;
  sc.h = o.height * o.supersample;
  const double cr = std::isfinite(e.r0) ? 0.5 * (e.r0 + e.r1) : 0.0, cu = std::isfinite(e.u0) ? 0.5 * (e.u0 + e.u1) : 0.0;
  // A key light near the viewer, a little above and to the left, as in most surface viewers.
  const Vec3 light = normalized({-fr.f[0] + 0.35f * fr.u[0] - 0.25f * fr.r[0], -fr.f[1] + 0.35f * fr.u[1] - 0.25f * fr.r[1],
                                 -fr.f[2] + 0.35f * fr.u[2] - 0.25f * fr.r[2]});
  std::size_t nv = 0, nt = 0;
  for (const auto& it : items) {
    TRIBEV2_CHECK(it.mesh != nullptr, "render: item without a mesh");
    const auto n = static_cast<std::size_t>(it.mesh->n_vertices());
    TRIBEV2_CHECK(it.normals.size() == 3 * n && it.colors.size() == n, "render: item with ", n, " vertices has ",
                  it.normals.size() / 3, " normals and ", it.colors.size(), " colours");
    nv += n;
    nt += static_cast<std::size_t>(it.mesh->n_faces());
  }
  sc.x.resize(nv);
  sc.y.resize(nv);
  sc.z.resize(nv);
  sc.rgb.resize(3 * nv);
  sc.tris.reserve(3 * nt);
  // Out-of-range (or non-finite) positions land beyond kMaxFixed: their triangles are skipped.
  auto to_fixed = [](double v) {
    const double f = v * kOne;
    if (!std::isfinite(f)) return 4 * kMaxFixed;
    return static_cast<std::int64_t>(std::llround(std::clamp(f, -4.0 * kMaxFixed, 4.0 * kMaxFixed)));
  };
  std::size_t base = 0;
  for (const auto& it : items) {
    const auto& v = it.mesh->vertices;
    const auto n = static_cast<std::size_t>(it.mesh->n_vertices());
    for (std::size_t i = 0; i < n; ++i) {
      const Vec3 p{v[3 * i], v[3 * i + 1], v[3 * i + 2]};
      const std::size_t g = base + i;
      sc.x[g] = to_fixed(0.5 * sc.w + s * (dot(p, fr.r) - cr));
      sc.y[g] = to_fixed(0.5 * sc.h - s * (dot(p, fr.u) - cu));
      sc.z[g] = dot(p, fr.f);
      const Vec3 nrm{it.normals[3 * i], it.normals[3 * i + 1], it.normals[3 * i + 2]};
      // |n . l|: lit whichever way a triangle is wound.
      const float shade = std::min(1.0f, o.ambient + o.diffuse * std::abs(dot(nrm, light)));
      const Rgb& c = it.colors[i];
      sc.rgb[3 * g] = c.r * shade;
      sc.rgb[3 * g + 1] = c.g * shade;
      sc.rgb[3 * g + 2] = c.b * shade;
    }
    const auto& f = it.mesh->faces;
    for (std::size_t t = 0; t + 2 < f.size(); t += 3) {
      if (it.winding != 0) {
        // Closed mesh: a face turned away from the viewer is hidden by the front of the mesh.
        const auto a = static_cast<std::size_t>(f[t]), b = static_cast<std::size_t>(f[t + 1]), c = static_cast<std::size_t>(f[t + 2]);
        const Vec3 e1{v[3 * b] - v[3 * a], v[3 * b + 1] - v[3 * a + 1], v[3 * b + 2] - v[3 * a + 2]};
        const Vec3 e2{v[3 * c] - v[3 * a], v[3 * c + 1] - v[3 * a + 1], v[3 * c + 2] - v[3 * a + 2]};
        if (static_cast<float>(it.winding) * dot(cross(e1, e2), fr.f) >= 0) continue;
      }
      for (int k = 0; k < 3; ++k) sc.tris.push_back(static_cast<std::int32_t>(base) + f[t + static_cast<std::size_t>(k)]);
    }
    base += n;
  }
  return sc;
}

std::int64_t floor_div(std::int64_t n, std::int64_t d) {
  const std::int64_t q = n / d;
  return (n % d != 0 && ((n < 0) != (d < 0))) ? q - 1 : q;
}
std::int64_t ceil_div(std::int64_t n, std::int64_t d) {
  const std::int64_t q = n / d;
  return (n % d != 0 && ((n < 0) == (d < 0))) ? q + 1 : q;
}

// Exact integer setup of one triangle: edge functions w_i(X, Y) = A_i X + B_i Y + C_i (edge i
// is opposite vertex i, positive inside), the fill-rule bias (a sample exactly on an edge
// belongs to one of the two triangles sharing it), and the sample bounding box.
struct Tri {
  std::int32_t v[3];
  std::int64_t a[3], b[3], c[3], bias[3];
  float inv_area;
  int xa, xb, ya, yb;
};

bool setup_triangle(const Scene& sc, std::size_t t, Tri& tr) {
  for (int k = 0; k < 3; ++k) tr.v[k] = sc.tris[3 * t + static_cast<std::size_t>(k)];
  std::int64_t X[3], Y[3];
  for (int k = 0; k < 3; ++k) {
    X[k] = sc.x[static_cast<std::size_t>(tr.v[k])];
    Y[k] = sc.y[static_cast<std::size_t>(tr.v[k])];
    if (X[k] < -kMaxFixed || X[k] > kMaxFixed || Y[k] < -kMaxFixed || Y[k] > kMaxFixed) return false;
  }
  for (int k = 0; k < 3; ++k) {
    const int p = (k + 1) % 3, q = (k + 2) % 3;  // edge p -> q
    tr.a[k] = Y[p] - Y[q];
    tr.b[k] = X[q] - X[p];
    tr.c[k] = X[p] * Y[q] - Y[p] * X[q];
  }
  std::int64_t area = tr.a[2] * X[2] + tr.b[2] * Y[2] + tr.c[2];
  if (area == 0) return false;
  if (area < 0) {
    for (int k = 0; k < 3; ++k) tr.a[k] = -tr.a[k], tr.b[k] = -tr.b[k], tr.c[k] = -tr.c[k];
    area = -area;
  }
  for (int k = 0; k < 3; ++k) tr.bias[k] = (tr.a[k] > 0 || (tr.a[k] == 0 && tr.b[k] < 0)) ? 0 : -1;
  tr.inv_area = static_cast<float>(1.0 / static_cast<double>(area));
  const std::int64_t x0 = std::min({X[0], X[1], X[2]}), x1 = std::max({X[0], X[1], X[2]});
  const std::int64_t y0 = std::min({Y[0], Y[1], Y[2]}), y1 = std::max({Y[0], Y[1], Y[2]});
  // Samples sit at (i + 1/2) in sample units.
  tr.xa = static_cast<int>(std::max<std::int64_t>(0, ceil_div(x0 - kHalf, kOne)));
  tr.xb = static_cast<int>(std::min<std::int64_t>(sc.w - 1, floor_div(x1 - kHalf, kOne)));
  tr.ya = static_cast<int>(std::max<std::int64_t>(0, ceil_div(y0 - kHalf, kOne)));
  tr.yb = static_cast<int>(std::min<std::int64_t>(sc.h - 1, floor_div(y1 - kHalf, kOne)));
  return tr.xa <= tr.xb && tr.ya <= tr.yb;
}

using Buffers = RenderScratch;  // depth: +inf where empty; color: valid where depth is finite

inline std::uint32_t pack(float r, float g, float b) {
  // NaN maps to 0 (comparisons with NaN are false).
  auto q = [](float v) { return static_cast<std::uint32_t>((v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f) * 255.0f + 0.5f); };
  return q(r) | (q(g) << 8) | (q(b) << 16);
}

// Per-triangle values the samples interpolate, copied out of the scene once per triangle (the
// compiler cannot keep them in registers across stores to the buffers, which might alias them).
struct TriShade {
  float inv_area;
  float z[3];
  float c[3][3];
};

TriShade shade_setup(const Scene& sc, const Tri& tr) {
  TriShade t;
  t.inv_area = tr.inv_area;
  for (int k = 0; k < 3; ++k) {
    const auto i = static_cast<std::size_t>(tr.v[k]);
    t.z[k] = sc.z[i];
    for (int ch = 0; ch < 3; ++ch) t.c[k][ch] = sc.rgb[3 * i + static_cast<std::size_t>(ch)];
  }
  return t;
}

// Depth test and colour of one covered sample; w are the exact (unbiased) edge values.
inline void shade_sample(const TriShade& t, std::int64_t w0, std::int64_t w1, std::int64_t w2, float* depth,
                         std::uint32_t* color) {
  const float b0 = static_cast<float>(w0) * t.inv_area, b1 = static_cast<float>(w1) * t.inv_area,
              b2 = static_cast<float>(w2) * t.inv_area;
  const float z = b0 * t.z[0] + b1 * t.z[1] + b2 * t.z[2];
  if (!(z < *depth)) return;
  *depth = z;
  *color = pack(b0 * t.c[0][0] + b1 * t.c[1][0] + b2 * t.c[2][0], b0 * t.c[0][1] + b1 * t.c[1][1] + b2 * t.c[2][1],
                b0 * t.c[0][2] + b1 * t.c[1][2] + b2 * t.c[2][2]);
}

// Optimised rasteriser: per row, the span of inside samples is solved exactly from the three
// edge functions, then walked with integer increments.
void raster_spans(const Scene& sc, const Tri& tr, int row0, int row1, Buffers& buf) {
  const TriShade ts = shade_setup(sc, tr);
  const int ya = std::max(tr.ya, row0), yb = std::min(tr.yb, row1 - 1);
  for (int py = ya; py <= yb; ++py) {
    const std::int64_t Y = static_cast<std::int64_t>(py) * kOne + kHalf;
    std::int64_t lo = tr.xa, hi = tr.xb;
    std::int64_t row[3];
    for (int i = 0; i < 3; ++i) {
      row[i] = tr.b[i] * Y + tr.c[i];
      const std::int64_t r = row[i] + tr.bias[i];  // inside: a X + r >= 0 with X = px * kOne + kHalf
      if (tr.a[i] == 0) {
        if (r < 0) lo = hi + 1;
      } else if (tr.a[i] > 0) {
        lo = std::max(lo, ceil_div(-r - kHalf * tr.a[i], kOne * tr.a[i]));
      } else {
        hi = std::min(hi, floor_div(-r - kHalf * tr.a[i], kOne * tr.a[i]));
      }
    }
    if (lo > hi) continue;
    const std::int64_t X = lo * kOne + kHalf;
    std::int64_t w0 = tr.a[0] * X + row[0], w1 = tr.a[1] * X + row[1], w2 = tr.a[2] * X + row[2];
    const std::int64_t d0 = tr.a[0] * kOne, d1 = tr.a[1] * kOne, d2 = tr.a[2] * kOne;
    const std::size_t k = static_cast<std::size_t>(py) * static_cast<std::size_t>(sc.w) + static_cast<std::size_t>(lo);
    float* depth = buf.depth.data() + k;
    std::uint32_t* color = buf.color.data() + k;
    for (std::int64_t px = lo; px <= hi; ++px, ++depth, ++color, w0 += d0, w1 += d1, w2 += d2)
      shade_sample(ts, w0, w1, w2, depth, color);
  }
}

// Plain twin: every sample of the bounding box, edge functions evaluated directly.
void raster_box(const Scene& sc, const Tri& tr, Buffers& buf) {
  const TriShade ts = shade_setup(sc, tr);
  for (int py = tr.ya; py <= tr.yb; ++py)
    for (int px = tr.xa; px <= tr.xb; ++px) {
      const std::int64_t X = static_cast<std::int64_t>(px) * kOne + kHalf, Y = static_cast<std::int64_t>(py) * kOne + kHalf;
      std::int64_t w[3];
      bool inside = true;
      for (int i = 0; i < 3; ++i) {
        w[i] = tr.a[i] * X + tr.b[i] * Y + tr.c[i];
        inside = inside && w[i] + tr.bias[i] >= 0;
      }
      const std::size_t k = static_cast<std::size_t>(py) * static_cast<std::size_t>(sc.w) + static_cast<std::size_t>(px);
      if (inside) shade_sample(ts, w[0], w[1], w[2], &buf.depth[k], &buf.color[k]);
    }
}

// Box filter of the supersampled buffers into straight-alpha RGBA for output rows [r0, r1).
void resolve_rows(const Scene& sc, const Buffers& buf, int ss, int r0, int r1, Image& img) {
  for (int oy = r0; oy < r1; ++oy)
    for (int ox = 0; ox < img.width; ++ox) {
      std::uint32_t sr = 0, sg = 0, sb = 0, n = 0;
      for (int dy = 0; dy < ss; ++dy)
        for (int dx = 0; dx < ss; ++dx) {
          const std::size_t k = static_cast<std::size_t>(oy * ss + dy) * static_cast<std::size_t>(sc.w) +
                                static_cast<std::size_t>(ox * ss + dx);
          if (std::isinf(buf.depth[k])) continue;
          const std::uint32_t c = buf.color[k];
          sr += c & 0xFF;
          sg += (c >> 8) & 0xFF;
          sb += (c >> 16) & 0xFF;
          ++n;
        }
      std::uint8_t* p = img.rgba.data() + (static_cast<std::size_t>(oy) * static_cast<std::size_t>(img.width) + static_cast<std::size_t>(ox)) * 4;
      if (n == 0) {
        p[0] = p[1] = p[2] = p[3] = 0;
        continue;
      }
      p[0] = static_cast<std::uint8_t>((sr + n / 2) / n);
      p[1] = static_cast<std::uint8_t>((sg + n / 2) / n);
      p[2] = static_cast<std::uint8_t>((sb + n / 2) / n);
      p[3] = static_cast<std::uint8_t>((255 * n + static_cast<std::uint32_t>(ss * ss) / 2) / static_cast<std::uint32_t>(ss * ss));
    }
}

Image new_image(const RenderOptions& o) {
  Image img;
  img.width = o.width;
  img.height = o.height;
  img.rgba.assign(static_cast<std::size_t>(o.width) * static_cast<std::size_t>(o.height) * 4, 0);
  return img;
}

Buffers new_buffers(const Scene& sc) {
  const std::size_t n = static_cast<std::size_t>(sc.w) * static_cast<std::size_t>(sc.h);
  return {std::vector<float>(n, std::numeric_limits<float>::infinity()), std::vector<std::uint32_t>(n, 0)};
}

}  // namespace

View parse_view(std::string_view t) {
  if (t == "lateral") return View::Lateral;
  if (t == "medial") return View::Medial;
  if (t == "dorsal" || t == "superior") return View::Dorsal;
  if (t == "ventral" || t == "inferior") return View::Ventral;
  if (t == "anterior") return View::Anterior;
  if (t == "posterior") return View::Posterior;
  fail("view must be lateral, medial, dorsal, ventral, anterior or posterior, got '", t, "'");
}

const char* view_name(View v) {
  switch (v) {
    case View::Lateral: return "lateral";
    case View::Medial: return "medial";
    case View::Dorsal: return "dorsal";
    case View::Ventral: return "ventral";
    case View::Anterior: return "anterior";
    case View::Posterior: return "posterior";
  }
  return "?";
}

HemiSet parse_hemi_set(std::string_view t) {
  if (t == "left" || t == "lh" || t == "L") return HemiSet::Left;
  if (t == "right" || t == "rh" || t == "R") return HemiSet::Right;
  if (t == "both") return HemiSet::Both;
  fail("hemisphere must be left, right or both, got '", t, "'");
}

const char* hemi_set_name(HemiSet h) { return h == HemiSet::Left ? "left" : h == HemiSet::Right ? "right" : "both"; }

Camera camera_for(View view, HemiSet hemi) {
  // RAS coordinates: +x right, +y anterior, +z superior.
  switch (view) {
    case View::Lateral:
    case View::Medial: {
      TRIBEV2_CHECK(hemi != HemiSet::Both, "the ", view_name(view), " view needs one hemisphere (left or right), not both");
      const bool from_left = (hemi == HemiSet::Left) == (view == View::Lateral);
      // Looking from the left (-x) towards +x puts anterior on the left of the image.
      return {{from_left ? 1.0f : -1.0f, 0, 0}, {0, 0, 1}};
    }
    case View::Dorsal: return {{0, 0, -1}, {0, 1, 0}};    // from above, anterior up, right on the right
    case View::Ventral: return {{0, 0, 1}, {0, 1, 0}};    // from below, anterior up (left/right mirrored)
    case View::Anterior: return {{0, -1, 0}, {0, 0, 1}};  // facing the brain: its right on our left
    case View::Posterior: return {{0, 1, 0}, {0, 0, 1}};  // from behind: right on the right
  }
  return {};
}

float fit_scale(std::span<const RenderItem> items, const Camera& camera, int width, int height, float margin) {
  const Extent e = projected_extent(items, make_frame(camera));
  const float wr = std::max(e.r1 - e.r0, 1e-6f), hu = std::max(e.u1 - e.u0, 1e-6f);
  const float keep = std::max(0.05f, 1.0f - 2.0f * margin);
  return std::min(static_cast<float>(width) * keep / wr, static_cast<float>(height) * keep / hu);
}

Image render(const Context& ctx, std::span<const RenderItem> items, const Camera& camera, const RenderOptions& o,
             RenderScratch* scratch) {
  const Scene sc = build_scene(items, camera, o);
  RenderScratch local;
  Buffers& buf = scratch ? *scratch : local;
  const std::size_t n_samples = static_cast<std::size_t>(sc.w) * static_cast<std::size_t>(sc.h);
  if (buf.depth.size() < n_samples) {
    buf.depth.resize(n_samples);
    buf.color.resize(n_samples);
  }
  const std::size_t nt = sc.tris.size() / 3;
  std::vector<Tri> tris;
  tris.reserve(nt);
  for (std::size_t t = 0; t < nt; ++t) {
    Tri tr;
    if (setup_triangle(sc, t, tr)) tris.push_back(tr);
  }
  // Horizontal bands of samples in parallel; each band draws the part of every triangle it
  // holds, in triangle order, so the result does not depend on the number of threads.
  const int bands = std::max(1, std::min(sc.h, ctx.threads() * 8));
  ctx.pool().parallel_for(bands, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      const int row0 = static_cast<int>(static_cast<std::int64_t>(sc.h) * b / bands);
      const int row1 = static_cast<int>(static_cast<std::int64_t>(sc.h) * (b + 1) / bands);
      std::fill(buf.depth.begin() + static_cast<std::ptrdiff_t>(row0) * sc.w, buf.depth.begin() + static_cast<std::ptrdiff_t>(row1) * sc.w,
                std::numeric_limits<float>::infinity());
      for (const Tri& tr : tris)
        if (tr.yb >= row0 && tr.ya < row1) raster_spans(sc, tr, row0, row1, buf);
    }
  });
  Image img = new_image(o);
  ctx.pool().parallel_for(o.height, [&](std::int64_t r0, std::int64_t r1) {
    resolve_rows(sc, buf, o.supersample, static_cast<int>(r0), static_cast<int>(r1), img);
  }, 16);
  return img;
}

namespace reference {
Image render(std::span<const RenderItem> items, const Camera& camera, const RenderOptions& o) {
  const Scene sc = build_scene(items, camera, o);
  Buffers buf = new_buffers(sc);
  for (std::size_t t = 0; t < sc.tris.size() / 3; ++t) {
    Tri tr;
    if (setup_triangle(sc, t, tr)) raster_box(sc, tr, buf);
  }
  Image img = new_image(o);
  resolve_rows(sc, buf, o.supersample, 0, o.height, img);
  return img;
}
}  // namespace reference

}  // namespace tribev2::viz
