#include "tribev2/viz/mesh.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "tribev2/core/error.hpp"

namespace tribev2::viz {

void validate_mesh(const Mesh& mesh, std::string_view what) {
  TRIBEV2_CHECK(mesh.vertices.size() % 3 == 0, what, ": vertex array holds ", mesh.vertices.size(),
                " values, expected a multiple of 3 (x, y, z)");
  TRIBEV2_CHECK(mesh.faces.size() % 3 == 0, what, ": face array holds ", mesh.faces.size(),
                " indices, expected a multiple of 3 (triangles)");
  TRIBEV2_CHECK(mesh.n_vertices() > 0, what, ": the mesh has no vertices");
  TRIBEV2_CHECK(mesh.n_faces() > 0, what, ": the mesh has no faces");
  TRIBEV2_CHECK(mesh.n_vertices() <= INT32_MAX, what, ": too many vertices (", mesh.n_vertices(), ")");
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i)
    TRIBEV2_CHECK(std::isfinite(mesh.vertices[i]), what, ": vertex ", i / 3, " has a non-finite coordinate");
  const auto n = static_cast<std::int32_t>(mesh.n_vertices());
  for (std::size_t i = 0; i < mesh.faces.size(); ++i) {
    const std::int32_t v = mesh.faces[i];
    TRIBEV2_CHECK(v >= 0 && v < n, what, ": face ", i / 3, " refers to vertex ", v, ", expected 0 <= index < ", n);
  }
}

std::vector<float> vertex_normals(const Mesh& mesh) {
  const std::size_t nv = static_cast<std::size_t>(mesh.n_vertices());
  std::vector<double> acc(nv * 3, 0.0);
  const float* p = mesh.vertices.data();
  for (std::size_t f = 0; f < static_cast<std::size_t>(mesh.n_faces()); ++f) {
    const std::size_t a = static_cast<std::size_t>(mesh.faces[3 * f]), b = static_cast<std::size_t>(mesh.faces[3 * f + 1]),
                      c = static_cast<std::size_t>(mesh.faces[3 * f + 2]);
    const double e1[3] = {p[3 * b] - p[3 * a], p[3 * b + 1] - p[3 * a + 1], p[3 * b + 2] - p[3 * a + 2]};
    const double e2[3] = {p[3 * c] - p[3 * a], p[3 * c + 1] - p[3 * a + 1], p[3 * c + 2] - p[3 * a + 2]};
    // The cross product's length is twice the area: summing it weights faces by area.
    const double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
    for (std::size_t v : {a, b, c})
      for (int k = 0; k < 3; ++k) acc[3 * v + static_cast<std::size_t>(k)] += n[k];
  }
  std::vector<float> out(nv * 3, 0.0f);
  for (std::size_t v = 0; v < nv; ++v) {
    const double len = std::sqrt(acc[3 * v] * acc[3 * v] + acc[3 * v + 1] * acc[3 * v + 1] + acc[3 * v + 2] * acc[3 * v + 2]);
    if (len > 0)
      for (int k = 0; k < 3; ++k) out[3 * v + static_cast<std::size_t>(k)] = static_cast<float>(acc[3 * v + static_cast<std::size_t>(k)] / len);
  }
  return out;
}

int closed_mesh_winding(const Mesh& mesh) {
  // Directed edges (a, b): a closed, consistently wound surface has each exactly once, and
  // its reverse exactly once.
  std::vector<std::uint64_t> edges;
  edges.reserve(mesh.faces.size());
  auto key = [](std::int32_t a, std::int32_t b) { return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b); };
  for (std::size_t t = 0; t + 2 < mesh.faces.size(); t += 3)
    for (int k = 0; k < 3; ++k)
      edges.push_back(key(mesh.faces[t + static_cast<std::size_t>(k)], mesh.faces[t + static_cast<std::size_t>((k + 1) % 3)]));
  std::sort(edges.begin(), edges.end());
  if (std::adjacent_find(edges.begin(), edges.end()) != edges.end()) return 0;
  for (std::uint64_t e : edges) {
    const std::uint64_t rev = (e << 32) | (e >> 32);
    if (!std::binary_search(edges.begin(), edges.end(), rev)) return 0;
  }
  // Signed volume: positive when the faces are counter-clockwise seen from outside.
  double vol = 0;
  const float* p = mesh.vertices.data();
  for (std::size_t t = 0; t + 2 < mesh.faces.size(); t += 3) {
    const float* a = p + 3 * mesh.faces[t];
    const float* b = p + 3 * mesh.faces[t + 1];
    const float* c = p + 3 * mesh.faces[t + 2];
    vol += static_cast<double>(a[0]) * (static_cast<double>(b[1]) * c[2] - static_cast<double>(b[2]) * c[1]) -
           static_cast<double>(a[1]) * (static_cast<double>(b[0]) * c[2] - static_cast<double>(b[2]) * c[0]) +
           static_cast<double>(a[2]) * (static_cast<double>(b[0]) * c[1] - static_cast<double>(b[1]) * c[0]);
  }
  if (vol == 0 || !std::isfinite(vol)) return 0;
  return vol > 0 ? 1 : -1;
}

Bounds mesh_bounds(const Mesh& mesh) {
  Bounds b;
  b.lo = {INFINITY, INFINITY, INFINITY};
  b.hi = {-INFINITY, -INFINITY, -INFINITY};
  for (std::size_t i = 0; i + 2 < mesh.vertices.size(); i += 3)
    for (std::size_t k = 0; k < 3; ++k) {
      b.lo[k] = std::min(b.lo[k], mesh.vertices[i + k]);
      b.hi[k] = std::max(b.hi[k], mesh.vertices[i + k]);
    }
  return b;
}

Mesh make_icosphere(int subdivisions, float radius) {
  TRIBEV2_CHECK(subdivisions >= 0 && subdivisions <= 8, "make_icosphere: subdivisions must be in [0, 8], got ", subdivisions);
  const double t = (1.0 + std::sqrt(5.0)) / 2.0;
  std::vector<std::array<double, 3>> v = {{-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0}, {0, -1, t}, {0, 1, t},
                                          {0, -1, -t}, {0, 1, -t}, {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1}};
  std::vector<std::array<std::int32_t, 3>> f = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11},
                                                {1, 5, 9},  {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
                                                {3, 9, 4},  {3, 4, 2},  {3, 2, 6},   {3, 6, 8},  {3, 8, 9},
                                                {4, 9, 5},  {2, 4, 11}, {6, 2, 10},  {8, 6, 7},  {9, 8, 1}};
  auto normalise = [](std::array<double, 3>& p) {
    const double l = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    for (double& c : p) c /= l;
  };
  for (auto& p : v) normalise(p);
  for (int s = 0; s < subdivisions; ++s) {
    std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t> mid;
    auto midpoint = [&](std::int32_t a, std::int32_t b) {
      const auto key = std::minmax(a, b);
      if (auto it = mid.find(key); it != mid.end()) return it->second;
      std::array<double, 3> m{};
      for (int k = 0; k < 3; ++k) m[static_cast<std::size_t>(k)] = (v[static_cast<std::size_t>(a)][static_cast<std::size_t>(k)] + v[static_cast<std::size_t>(b)][static_cast<std::size_t>(k)]) / 2;
      normalise(m);
      v.push_back(m);
      const auto idx = static_cast<std::int32_t>(v.size() - 1);
      mid.emplace(key, idx);
      return idx;
    };
    std::vector<std::array<std::int32_t, 3>> next;
    next.reserve(f.size() * 4);
    for (const auto& tri : f) {
      const std::int32_t a = midpoint(tri[0], tri[1]), b = midpoint(tri[1], tri[2]), c = midpoint(tri[2], tri[0]);
      next.push_back({tri[0], a, c});
      next.push_back({tri[1], b, a});
      next.push_back({tri[2], c, b});
      next.push_back({a, b, c});
    }
    f = std::move(next);
  }
  Mesh m;
  m.vertices.reserve(v.size() * 3);
  for (const auto& p : v)
    for (double c : p) m.vertices.push_back(static_cast<float>(c * radius));
  m.faces.reserve(f.size() * 3);
  for (const auto& tri : f)
    for (std::int32_t i : tri) m.faces.push_back(i);
  return m;
}

}  // namespace tribev2::viz
