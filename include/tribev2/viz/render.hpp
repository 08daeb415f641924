// Offscreen software rendering of shaded, per-vertex coloured triangle meshes: orthographic
// camera, z-buffer, colours interpolated over each triangle (Gouraud), Lambert + ambient
// lighting from a light near the viewer, supersampled edges. No display, GPU or OpenGL.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/mesh.hpp"

namespace tribev2::viz {

using Vec3 = std::array<float, 3>;

enum class View { Lateral, Medial, Dorsal, Ventral, Anterior, Posterior };
View parse_view(std::string_view text);
const char* view_name(View v);

// Which hemispheres a panel shows.
enum class HemiSet { Left, Right, Both };
HemiSet parse_hemi_set(std::string_view text);  // left | right | both (also lh / rh)
const char* hemi_set_name(HemiSet h);

// The camera: `forward` points from the viewer into the scene, `up` is the screen's up.
// Screen right is forward x up. Lateral/medial need one hemisphere.
struct Camera {
  Vec3 forward{0, 0, -1};
  Vec3 up{0, 1, 0};
};
Camera camera_for(View view, HemiSet hemi);

// A mesh to draw with its unit vertex normals and per-vertex colours.
struct RenderItem {
  const Mesh* mesh = nullptr;
  std::span<const float> normals;  // n_vertices x 3
  std::span<const Rgb> colors;     // n_vertices
  // closed_mesh_winding(*mesh): +1/-1 lets the renderer skip the faces turned away from the
  // viewer (they are hidden on a closed surface); 0 draws every face.
  int winding = 0;
};

struct RenderOptions {
  int width = 800, height = 600;   // output pixels
  int supersample = 2;             // samples per pixel along each axis (1 = no antialiasing)
  float ambient = 0.35f;           // intensity = ambient + diffuse * |n . light|
  float diffuse = 0.65f;
  std::optional<float> scale;      // pixels per millimetre; empty: fit the meshes into the image
  float margin = 0.02f;            // fraction of the image kept free on each side when fitting
};

// Straight (non-premultiplied) RGBA, row-major from the top-left; alpha is coverage (0 where
// nothing was drawn).
struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgba;
  const std::uint8_t* pixel(int x, int y) const { return rgba.data() + (static_cast<std::size_t>(y) * width + x) * 4; }
};

// Pixels per millimetre that make every item fit into a width x height image with the margin.
float fit_scale(std::span<const RenderItem> items, const Camera& camera, int width, int height, float margin);

// Sample buffers that can be kept between renders (figures, movies) to avoid allocating and
// faulting in ~15 MB for every supersampled 800 x 600 view. Contents are internal.
struct RenderScratch {
  std::vector<float> depth;
  std::vector<std::uint32_t> color;
};

// Renders the items (centred on the centre of their common bounding box). Rows of the image
// are split across ctx.pool(); the result does not depend on the number of threads.
Image render(const Context& ctx, std::span<const RenderItem> items, const Camera& camera, const RenderOptions& options,
             RenderScratch* scratch = nullptr);

// Where the point `p` lands (pixels, x right and y down from the top-left) in the image that
// render() draws with the same items, camera and options; for labels placed over a render.
std::array<float, 2> project_point(std::span<const RenderItem> items, const Camera& camera, const RenderOptions& options,
                                   const Vec3& p);

namespace reference {
// The plain single-threaded twin of render() (same arithmetic, one band): used by tests.
Image render(std::span<const RenderItem> items, const Camera& camera, const RenderOptions& options);
}  // namespace reference

}  // namespace tribev2::viz
