#include "viz_test_support.hpp"

#include <cairo.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "support/test_support.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/gifti.hpp"

namespace tribev2::viz::vtest {

namespace fs = std::filesystem;

namespace {
Mesh ellipsoid(float rx, float ry, float rz) {
  Mesh m = make_icosphere(5, 1.0f);
  for (std::size_t i = 0; i < m.vertices.size(); i += 3) {
    m.vertices[i] *= rx;
    m.vertices[i + 1] *= ry;
    m.vertices[i + 2] *= rz;
  }
  return m;
}

void write_map(const fs::path& path, const std::vector<float>& v) {
  GiftiImage img;
  GiftiDataArray a;
  a.intent = "NIFTI_INTENT_SHAPE";
  a.dims = {static_cast<std::int64_t>(v.size())};
  a.floats = v;
  img.arrays.push_back(a);
  write_gifti(path, img);
}
}  // namespace

void write_fake_fsaverage5(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* side : {"left", "right"}) {
    const float sx = std::string(side) == "left" ? -1.0f : 1.0f;
    auto place = [&](Mesh m, float dx) {
      for (std::size_t i = 0; i < m.vertices.size(); i += 3) m.vertices[i] += sx * dx;
      return m;
    };
    const std::string s = side;
    write_gifti(dir / ("pial_" + s + ".gii.gz"), make_surface_gifti(place(ellipsoid(32, 80, 55), 35), "Cortex"));
    write_gifti(dir / ("white_" + s + ".gii.gz"), make_surface_gifti(place(ellipsoid(29, 76, 51), 35), "Cortex"));
    write_gifti(dir / ("infl_" + s + ".gii.gz"), make_surface_gifti(ellipsoid(40, 100, 70), "Cortex"));
    write_gifti(dir / ("sphere_" + s + ".gii.gz"), make_surface_gifti(ellipsoid(100, 100, 100), "Cortex"));
    const Mesh sphere = make_icosphere(5, 1.0f);
    std::vector<float> sulc, curv;
    for (std::size_t i = 0; i < sphere.vertices.size(); i += 3) {
      const float x = sphere.vertices[i], y = sphere.vertices[i + 1], z = sphere.vertices[i + 2];
      sulc.push_back(1.5f * std::sin(6 * y) * std::cos(5 * z) + 0.2f * x);
      curv.push_back(0.3f * std::sin(9 * y + 3 * z));
    }
    write_map(dir / ("sulc_" + s + ".gii.gz"), sulc);
    write_map(dir / ("curv_" + s + ".gii.gz"), curv);
  }
}

fs::path real_fsaverage5_dir() {
  const fs::path d = tribev2::test::shared_data() / "fsaverage5";
  return fs::exists(d / "pial_left.gii.gz") ? d : fs::path();
}

fs::path any_fsaverage5_dir(const fs::path& scratch, bool* is_real) {
  const fs::path real = real_fsaverage5_dir();
  if (is_real) *is_real = !real.empty();
  if (!real.empty()) return real;
  const fs::path fake = scratch / "fake-fsaverage5";
  if (!fs::exists(fake / "curv_right.gii.gz")) write_fake_fsaverage5(fake);
  return fake;
}

Image read_png(const fs::path& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    fail(path.string(), ": cannot read PNG");
  }
  Image img;
  img.width = cairo_image_surface_get_width(s);
  img.height = cairo_image_surface_get_height(s);
  img.rgba.resize(static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height) * 4);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  const bool has_alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      std::uint32_t p;
      std::memcpy(&p, data + static_cast<std::ptrdiff_t>(y) * stride + 4 * x, 4);
      std::uint8_t* o = img.rgba.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width) + static_cast<std::size_t>(x)) * 4;
      o[0] = static_cast<std::uint8_t>(p >> 16);
      o[1] = static_cast<std::uint8_t>(p >> 8);
      o[2] = static_cast<std::uint8_t>(p);
      o[3] = has_alpha ? static_cast<std::uint8_t>(p >> 24) : 255;
    }
  cairo_surface_destroy(s);
  return img;
}

PyResult run_python(const std::string& script) {
  PyResult r;
  if (!fs::exists("/usr/bin/python3")) return r;
  tribev2::test::TempDir tmp;
  const fs::path file = tmp / "script.py";
  std::ofstream(file) << script;
  const std::string cmd = "/usr/bin/python3 '" + file.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool have_nibabel() { return run_python("import nibabel, numpy\n").code == 0; }

}  // namespace tribev2::viz::vtest

namespace {
// Frees the font caches at the end of the test program (for LeakSanitizer).
class FontCacheCleanup : public ::testing::Environment {
 public:
  void TearDown() override { tribev2::viz::release_font_caches(); }
};
// gtest takes ownership of the environment (its documented idiom needs a heap object).
const auto* const kFontCacheCleanup = ::testing::AddGlobalTestEnvironment(new FontCacheCleanup);
}  // namespace
