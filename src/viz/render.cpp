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

// Everything the rasteriser needs, in sample (supersampled pixel) coordinates.
struct Scene {
  int w = 0, h = 0;                 // samples
  std::vector<double> x, y;         // per vertex (all items concatenated)
  std::vector<float> z;             // depth along the view direction (smaller is nearer)
  std::vector<float> rgb;           // shaded colour per vertex
  std::vector<std::int32_t> tris;   // global vertex indices
};

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
  std::size_t base = 0;
  for (const auto& it : items) {
    const auto& v = it.mesh->vertices;
    const auto n = static_cast<std::size_t>(it.mesh->n_vertices());
    for (std::size_t i = 0; i < n; ++i) {
      const Vec3 p{v[3 * i], v[3 * i + 1], v[3 * i + 2]};
      const std::size_t g = base + i;
      sc.x[g] = 0.5 * sc.w + s * (dot(p, fr.r) - cr);
      sc.y[g] = 0.5 * sc.h - s * (dot(p, fr.u) - cu);
      sc.z[g] = dot(p, fr.f);
      const Vec3 nrm{it.normals[3 * i], it.normals[3 * i + 1], it.normals[3 * i + 2]};
      // |n . l|: lit whichever way a triangle is wound.
      const float shade = std::min(1.0f, o.ambient + o.diffuse * std::abs(dot(nrm, light)));
      const Rgb& c = it.colors[i];
      sc.rgb[3 * g] = c.r * shade;
      sc.rgb[3 * g + 1] = c.g * shade;
      sc.rgb[3 * g + 2] = c.b * shade;
    }
    for (std::int32_t f : it.mesh->faces) sc.tris.push_back(static_cast<std::int32_t>(base) + f);
    base += n;
  }
  return sc;
}

// Edge function of the directed edge a->b at p. The reversed edge gives exactly the negated
// value (IEEE subtraction is antisymmetric), so neighbouring triangles leave no cracks.
struct Edge {
  double a, b, c;
};
inline Edge make_edge(double ax, double ay, double bx, double by) { return {ay - by, bx - ax, ax * by - ay * bx}; }
inline double edge_at(const Edge& e, double px, double py) { return (e.a * px + e.b * py) + e.c; }

inline std::uint32_t pack(float r, float g, float b) {
  auto q = [](float v) { return static_cast<std::uint32_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); };
  return q(r) | (q(g) << 8) | (q(b) << 16);
}

struct Buffers {
  std::vector<float> depth;         // +inf where empty
  std::vector<std::uint32_t> color;
};

// Shades the samples of one triangle that fall in rows [row0, row1). The optimised path stops a
// row at the end of the triangle's span (kSpanExit); the reference visits the whole bounding box.
// The per-sample arithmetic is the same, so both give identical images.
template <bool kSpanExit>
void shade_triangle(const Scene& sc, std::size_t t, int row0, int row1, Buffers& buf) {
  const std::int32_t i0 = sc.tris[3 * t], i1 = sc.tris[3 * t + 1], i2 = sc.tris[3 * t + 2];
  const double x0 = sc.x[static_cast<std::size_t>(i0)], y0 = sc.y[static_cast<std::size_t>(i0)];
  const double x1 = sc.x[static_cast<std::size_t>(i1)], y1 = sc.y[static_cast<std::size_t>(i1)];
  const double x2 = sc.x[static_cast<std::size_t>(i2)], y2 = sc.y[static_cast<std::size_t>(i2)];
  const Edge e0 = make_edge(x1, y1, x2, y2), e1 = make_edge(x2, y2, x0, y0), e2 = make_edge(x0, y0, x1, y1);
  const double area = edge_at(e2, x2, y2);
  if (!(area != 0) || !std::isfinite(area)) return;
  const double sign = area > 0 ? 1.0 : -1.0;
  const double inv_area = 1.0 / (area * sign);
  const int xa = std::max(0, static_cast<int>(std::floor(std::min({x0, x1, x2}) - 0.5)));
  const int xb = std::min(sc.w - 1, static_cast<int>(std::ceil(std::max({x0, x1, x2}) - 0.5)));
  const int ya = std::max(row0, static_cast<int>(std::floor(std::min({y0, y1, y2}) - 0.5)));
  const int yb = std::min(row1 - 1, static_cast<int>(std::ceil(std::max({y0, y1, y2}) - 0.5)));
  const float z0 = sc.z[static_cast<std::size_t>(i0)], z1 = sc.z[static_cast<std::size_t>(i1)], z2 = sc.z[static_cast<std::size_t>(i2)];
  const float* c0 = &sc.rgb[3 * static_cast<std::size_t>(i0)];
  const float* c1 = &sc.rgb[3 * static_cast<std::size_t>(i1)];
  const float* c2 = &sc.rgb[3 * static_cast<std::size_t>(i2)];
  for (int py = ya; py <= yb; ++py) {
    const double cy = py + 0.5;
    bool inside_row = false;
    for (int px = xa; px <= xb; ++px) {
      const double cx = px + 0.5;
      const double w0 = sign * edge_at(e0, cx, cy), w1 = sign * edge_at(e1, cx, cy), w2 = sign * edge_at(e2, cx, cy);
      if (w0 < 0 || w1 < 0 || w2 < 0) {
        // Each edge value is monotonic along a row, so the inside samples are one span.
        if (kSpanExit && inside_row) break;
        continue;
      }
      inside_row = true;
      const float b0 = static_cast<float>(w0 * inv_area), b1 = static_cast<float>(w1 * inv_area),
                  b2 = static_cast<float>(w2 * inv_area);
      const float z = b0 * z0 + b1 * z1 + b2 * z2;
      const std::size_t k = static_cast<std::size_t>(py) * static_cast<std::size_t>(sc.w) + static_cast<std::size_t>(px);
      if (z < buf.depth[k]) {
        buf.depth[k] = z;
        buf.color[k] = pack(b0 * c0[0] + b1 * c1[0] + b2 * c2[0], b0 * c0[1] + b1 * c1[1] + b2 * c2[1],
                            b0 * c0[2] + b1 * c1[2] + b2 * c2[2]);
      }
    }
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

Image render(const Context& ctx, std::span<const RenderItem> items, const Camera& camera, const RenderOptions& o) {
  const Scene sc = build_scene(items, camera, o);
  Buffers buf = new_buffers(sc);
  const std::size_t nt = sc.tris.size() / 3;
  // Per-triangle row range, so each band skips the triangles it cannot touch.
  std::vector<std::int32_t> ylo(nt), yhi(nt);
  for (std::size_t t = 0; t < nt; ++t) {
    const double a = sc.y[static_cast<std::size_t>(sc.tris[3 * t])], b = sc.y[static_cast<std::size_t>(sc.tris[3 * t + 1])],
                 c = sc.y[static_cast<std::size_t>(sc.tris[3 * t + 2])];
    const double lo = std::min({a, b, c}), hi = std::max({a, b, c});
    ylo[t] = std::isfinite(lo) ? static_cast<std::int32_t>(std::clamp(std::floor(lo - 0.5), -1.0, 1e6)) : 1;
    yhi[t] = std::isfinite(hi) ? static_cast<std::int32_t>(std::clamp(std::ceil(hi - 0.5), -1.0, 1e6)) : 0;
  }
  const int bands = std::max(1, std::min(sc.h, ctx.threads() * 8));
  ctx.pool().parallel_for(bands, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      const int row0 = static_cast<int>(static_cast<std::int64_t>(sc.h) * b / bands);
      const int row1 = static_cast<int>(static_cast<std::int64_t>(sc.h) * (b + 1) / bands);
      for (std::size_t t = 0; t < nt; ++t)
        if (yhi[t] >= row0 && ylo[t] < row1) shade_triangle<true>(sc, t, row0, row1, buf);
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
  for (std::size_t t = 0; t < sc.tris.size() / 3; ++t) shade_triangle<false>(sc, t, 0, sc.h, buf);
  Image img = new_image(o);
  resolve_rows(sc, buf, o.supersample, 0, o.height, img);
  return img;
}
}  // namespace reference

}  // namespace tribev2::viz
