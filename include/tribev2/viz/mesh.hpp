// Triangle meshes of one cortical hemisphere (or any closed surface): vertex coordinates in
// millimetres (RAS: x right, y anterior, z superior) and triangles as vertex indices.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tribev2::viz {

struct Mesh {
  std::vector<float> vertices;       // n_vertices x 3 (x, y, z)
  std::vector<std::int32_t> faces;   // n_faces x 3 vertex indices

  std::int64_t n_vertices() const { return static_cast<std::int64_t>(vertices.size() / 3); }
  std::int64_t n_faces() const { return static_cast<std::int64_t>(faces.size() / 3); }
};

// Throws tribev2::Error naming `what` unless: the arrays hold whole triples, there is at least
// one vertex and one face, coordinates are finite and every face index is in [0, n_vertices).
void validate_mesh(const Mesh& mesh, std::string_view what);

// Unit vertex normals (n_vertices x 3): the sum of the adjacent faces' area-weighted normals.
// A vertex on no face (or on degenerate faces only) gets (0, 0, 0).
std::vector<float> vertex_normals(const Mesh& mesh);

// +1 when the mesh is closed (every edge shared by exactly two faces, in opposite directions)
// with its faces wound counter-clockwise seen from outside, -1 when closed and wound the other
// way, 0 when open, non-manifold or flat.
int closed_mesh_winding(const Mesh& mesh);

struct Bounds {
  std::array<float, 3> lo{}, hi{};
};
Bounds mesh_bounds(const Mesh& mesh);

// A subdivided icosahedron on a sphere of `radius` centred on the origin, outward-facing
// triangles: 10 * 4^s + 2 vertices and 20 * 4^s faces (s = 5 gives fsaverage5's 10,242 and
// 20,480). Used by tests and demos when the real meshes are absent.
Mesh make_icosphere(int subdivisions, float radius = 100.0f);

}  // namespace tribev2::viz
