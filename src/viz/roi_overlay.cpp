#include "roi_overlay.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "tribev2/core/error.hpp"

namespace tribev2::viz::detail {

HemiEdges overlay_edges(const RoiOverlay& ov, const BrainSurface& surf) {
  TRIBEV2_CHECK(static_cast<std::int64_t>(ov.region.size()) == kFsaverage5Outputs, "ROI overlay: ", ov.region.size(),
                " region numbers, expected one per output vertex (", kFsaverage5Outputs, ")");
  std::set<std::int32_t> named;
  for (const auto& [r, n] : ov.names) named.insert(r);
  auto drawn = [&](std::int32_t r) { return r >= 0 && (ov.outline_all || named.count(r) > 0); };
  HemiEdges edges;
  for (int h = 0; h < 2; ++h) {
    const Mesh& m = surf.hemi[h].mesh;
    const auto n = static_cast<std::size_t>(m.n_vertices());
    TRIBEV2_CHECK(static_cast<std::int64_t>(n) == kFsaverage5Vertices, "ROI overlay: the surface has ", n, " vertices per hemisphere");
    edges[static_cast<std::size_t>(h)].assign(n, 0);
    const std::int32_t* reg = ov.region.data() + static_cast<std::size_t>(h) * n;
    for (std::size_t t = 0; t + 2 < m.faces.size(); t += 3) {
      const std::int32_t v[3] = {m.faces[t], m.faces[t + 1], m.faces[t + 2]};
      const std::int32_t r0 = reg[v[0]], r1 = reg[v[1]], r2 = reg[v[2]];
      if (r0 == r1 && r1 == r2) continue;
      // One vertex ring per boundary: the drawn side, or where both sides are drawn the region
      // with the smaller number (painting both made 180 HCP-MMP1 areas on fsaverage5 a black net).
      for (const std::int32_t x : v) {
        const std::int32_t rx = reg[x];
        if (!drawn(rx)) continue;
        bool mark = false;
        for (const std::int32_t y : v) mark = mark || (reg[y] != rx && (!drawn(reg[y]) || reg[y] > rx));
        if (mark) edges[static_cast<std::size_t>(h)][static_cast<std::size_t>(x)] = 1;
      }
    }
  }
  return edges;
}

void apply_outline(const HemiEdges& edges, const Rgb& line, std::array<std::vector<Rgb>, 2>& colors) {
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t v = 0; v < edges[h].size() && v < colors[h].size(); ++v)
      if (edges[h][v]) colors[h][v] = line;
}

std::vector<NameAnchor> overlay_names(const RoiOverlay& ov, const BrainSurface& surf, const std::vector<float> (&normals)[2], const int (&winding)[2], HemiSet hemis, std::span<const RenderItem> items,
                                      const Camera& camera, const RenderOptions& ro) {
  std::vector<NameAnchor> out;
  const float fl = std::sqrt(camera.forward[0] * camera.forward[0] + camera.forward[1] * camera.forward[1] +
                             camera.forward[2] * camera.forward[2]);
  const Vec3 f{camera.forward[0] / fl, camera.forward[1] / fl, camera.forward[2] / fl};
  for (int h = 0; h < 2; ++h) {
    if ((hemis == HemiSet::Left && h == 1) || (hemis == HemiSet::Right && h == 0)) continue;
    const Mesh& m = surf.hemi[h].mesh;
    const auto n = static_cast<std::size_t>(m.n_vertices());
    const std::int32_t* reg = ov.region.data() + static_cast<std::size_t>(h) * n;
    const auto& nr = normals[h];
    const int w = winding[h];
    for (const auto& [region, text] : ov.names) {
      // Vertices of the region facing the viewer (the renderer shows a face when
      // winding * (normal . forward) < 0; without a known winding, either side counts).
      std::vector<std::size_t> vis;
      std::size_t total = 0;
      for (std::size_t v = 0; v < n; ++v) {
        if (reg[v] != region) continue;
        ++total;
        const float d = nr[3 * v] * f[0] + nr[3 * v + 1] * f[1] + nr[3 * v + 2] * f[2];
        const float facing = w != 0 ? -static_cast<float>(w) * d : std::abs(d);
        if (facing > 0.3f) vis.push_back(v);
      }
      if (vis.size() < 3 || 4 * vis.size() < total) continue;
      double c[3] = {0, 0, 0};
      for (const auto v : vis)
        for (int k = 0; k < 3; ++k) c[k] += m.vertices[3 * v + static_cast<std::size_t>(k)];
      for (auto& x : c) x /= static_cast<double>(vis.size());
      std::size_t best = vis[0];
      double best_d = INFINITY;
      for (const auto v : vis) {
        double d = 0;
        for (int k = 0; k < 3; ++k) d += std::pow(m.vertices[3 * v + static_cast<std::size_t>(k)] - c[k], 2);
        if (d < best_d) best_d = d, best = v;
      }
      const Vec3 p{m.vertices[3 * best], m.vertices[3 * best + 1], m.vertices[3 * best + 2]};
      const auto xy = project_point(items, camera, ro, p);
      if (xy[0] < 0 || xy[1] < 0 || xy[0] >= static_cast<float>(ro.width) || xy[1] >= static_cast<float>(ro.height)) continue;
      out.push_back({xy[0], xy[1], text});
    }
  }
  return out;
}

std::vector<std::optional<std::array<double, 2>>> place_labels(std::span<const LabelBox> boxes, double width,
                                                               double height, double max_radius, double gap) {
  std::vector<std::optional<std::array<double, 2>>> out(boxes.size());
  struct Rect {
    double x0, y0, x1, y1;
  };
  std::vector<Rect> taken;
  auto fits = [&](const LabelBox& b, double cx, double cy) {
    const Rect r{cx - b.w / 2, cy - b.h / 2, cx + b.w / 2, cy + b.h / 2};
    if (r.x0 < 0 || r.y0 < 0 || r.x1 > width || r.y1 > height) return false;
    for (const auto& t : taken)
      if (r.x0 < t.x1 + gap && t.x0 < r.x1 + gap && r.y0 < t.y1 + gap && t.y0 < r.y1 + gap) return false;
    return true;
  };
  constexpr int kDirections = 24;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const LabelBox& b = boxes[i];
    if (!(b.w > 0 && b.h > 0 && std::isfinite(b.cx) && std::isfinite(b.cy))) continue;
    std::optional<std::array<double, 2>> at;
    if (fits(b, b.cx, b.cy)) at = std::array<double, 2>{b.cx, b.cy};
    const double step = b.h / 2;
    for (double radius = step; !at && radius <= max_radius; radius += step) {
      // Of the free places on this ring, the one nearest straight above or below the anchor
      // (names read best stacked), i.e. the first in this order of angles.
      for (int k = 0; k < kDirections && !at; ++k) {
        const int j = (k % 2 == 0 ? 1 : -1) * ((k + 1) / 2);  // 0, -1, 1, -2, 2, ...
        const double a = -M_PI / 2 + 2 * M_PI * j / kDirections;
        for (const double side : {1.0, -1.0}) {  // above first, then the mirror below
          const double cx = b.cx + radius * std::cos(a) * (b.w / b.h), cy = b.cy + side * radius * std::sin(a);
          if (fits(b, cx, cy)) {
            at = std::array<double, 2>{cx, cy};
            break;
          }
        }
      }
    }
    if (at) {
      taken.push_back({(*at)[0] - b.w / 2, (*at)[1] - b.h / 2, (*at)[0] + b.w / 2, (*at)[1] + b.h / 2});
      out[i] = at;
    }
  }
  return out;
}

void draw_names(cairo_t* cr, std::span<const NameAnchor> names, double x0, double y0, double w, double h, double px,
                const char* font) {
  if (names.empty()) return;
  cairo_save(cr);
  cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, px);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  const double halo = std::max(1.0, px * 0.28);
  std::vector<cairo_text_extents_t> ext(names.size());
  std::vector<LabelBox> boxes(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    cairo_text_extents(cr, names[i].text.c_str(), &ext[i]);
    boxes[i] = {names[i].x, names[i].y, ext[i].x_advance + 2 * halo, ext[i].height + 2 * halo};
  }
  const auto placed = place_labels(boxes, w, h, 6 * px);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!placed[i]) continue;
    const auto& a = names[i];
    const double cx = (*placed[i])[0], cy = (*placed[i])[1];
    if (std::abs(cx - a.x) > 0.5 || std::abs(cy - a.y) > 0.5) {
      // Moved off its region: a leader from a dot on the region to the nearest point of the box.
      const double bx = std::clamp(static_cast<double>(a.x), cx - boxes[i].w / 2, cx + boxes[i].w / 2);
      const double by = std::clamp(static_cast<double>(a.y), cy - boxes[i].h / 2, cy + boxes[i].h / 2);
      cairo_set_source_rgba(cr, 0.05, 0.05, 0.05, 0.9);
      cairo_set_line_width(cr, std::max(0.75, px * 0.08));
      cairo_move_to(cr, x0 + a.x, y0 + a.y);
      cairo_line_to(cr, x0 + bx, y0 + by);
      cairo_stroke(cr);
      cairo_arc(cr, x0 + a.x, y0 + a.y, std::max(1.0, px * 0.15), 0, 2 * M_PI);
      cairo_fill(cr);
    }
    const double x = x0 + cx - ext[i].x_advance / 2, y = y0 + cy - (ext[i].y_bearing + ext[i].height / 2);
    // A light halo keeps the name readable over any colour.
    cairo_move_to(cr, x, y);
    cairo_text_path(cr, a.text.c_str());
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_set_line_width(cr, halo);
    cairo_stroke_preserve(cr);
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    cairo_fill(cr);
  }
  cairo_restore(cr);
}

}  // namespace tribev2::viz::detail
