// Visualisation speed: one 800x600 view of fsaverage5 (target < 30 ms), a 4-panel figure
// frame, and a 100-frame MP4 (target < 10 s). Needs the real meshes:
//   viz_bench [MESH_DIR] [PREDS.npy]
// (defaults: ../shared/data/fsaverage5 and synthetic smooth maps).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>
#include <vector>

#include "tribev2/io/npy.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/movie.hpp"
#include "tribev2/viz/outputs.hpp"
#include "tribev2/viz/render.hpp"
#include "tribev2/viz/surface_colors.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
// CPU seconds of the whole process (all threads): meaningful on a loaded machine.
double cpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall time (ms) of `reps` runs; `cpu_ms` gets the median CPU time of a run.
template <class F>
double median_ms(int reps, F&& f, double* cpu_ms = nullptr) {
  std::vector<double> t, c;
  for (int i = 0; i < reps; ++i) {
    const double a = now(), ca = cpu();
    f();
    t.push_back((now() - a) * 1000);
    c.push_back((cpu() - ca) * 1000);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  if (cpu_ms) *cpu_ms = c[c.size() / 2];
  return t[t.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const fs::path mesh_dir = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/data/fsaverage5");
  const Context ctx(0);
  std::printf("threads: %d\n", ctx.threads());
  const BrainSurface surf = load_fsaverage5(mesh_dir, {});
  Tensor preds;
  if (argc > 2) {
    preds = as_prediction_rows(io::read_npy(argv[2]), argv[2]);
  } else {
    preds = Tensor::empty(DType::F32, {100, kFsaverage5Outputs});
    float* p = preds.data<float>();
    for (std::int64_t r = 0; r < 100; ++r)
      for (std::int64_t i = 0; i < kFsaverage5Outputs; ++i) p[r * kFsaverage5Outputs + i] = static_cast<float>(std::sin(0.001 * i + 0.1 * r));
  }
  const std::int64_t rows = std::min<std::int64_t>(preds.dim(0), 100);
  const float* values = std::as_const(preds).data<float>();

  // One view: left hemisphere, lateral, 800x600, colours from the first row.
  const auto& H = surf.hemi[0];
  const auto normals = vertex_normals(H.mesh);
  std::vector<Rgb> bg(H.background.size()), colors(bg.size());
  background_colors(H.background, -2, 2, 0.7f, bg);
  ColorOptions co;
  co.limits = compute_limits(std::as_const(preds).f32(), {});
  map_colors(std::span(values, static_cast<std::size_t>(kFsaverage5Vertices)), bg, Colormap::get("RdBu_r"), co, colors);
  const RenderItem item{&H.mesh, normals, colors, closed_mesh_winding(H.mesh)};
  std::printf("left hemisphere winding: %d\n", item.winding);
  RenderScratch scratch;
  for (int ss : {1, 2}) {
    RenderOptions o;
    o.supersample = ss;
    double cs = 0;
    const double mss = median_ms(30, [&] { render(ctx, std::span(&item, 1), camera_for(View::Lateral, HemiSet::Left), o, &scratch); }, &cs);
    std::printf("render 800x600 lateral view, supersample %d, reused buffers: %.2f ms wall, %.2f ms CPU\n", ss, mss, cs);
    double c = 0;
    const double ms = median_ms(30, [&] { render(ctx, std::span(&item, 1), camera_for(View::Lateral, HemiSet::Left), o); }, &c);
    std::printf("render 800x600 lateral view, supersample %d: %.2f ms wall, %.2f ms CPU (median of 30)\n", ss, ms, c);
  }
  {
    const Context one(1);
    RenderOptions o;
    double c = 0;
    const double ms = median_ms(30, [&] { render(one, std::span(&item, 1), camera_for(View::Lateral, HemiSet::Left), o); }, &c);
    std::printf("render 800x600 lateral view, supersample 2, 1 thread: %.2f ms wall, %.2f ms CPU\n", ms, c);
  }
  {
    // Colours + shading for one hemisphere (what changes per frame).
    const double ms = median_ms(30, [&] {
      map_colors(std::span(values, static_cast<std::size_t>(kFsaverage5Vertices)), bg, Colormap::get("RdBu_r"), co, colors);
    });
    std::printf("colour mapping of one hemisphere: %.3f ms\n", ms);
  }

  // A 4-panel movie frame as `tribev2 movie` draws it by default.
  FigureOptions fo;
  fo.dpi = 100;
  fo.panel_width_in = 3.2;
  BrainFigure fig(ctx, surf, fo, 1, true);
  fig.set_limits(co.limits);
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(fig.pixel_width()) * static_cast<std::size_t>(fig.pixel_height()) * 4);
  const MapFrame frame{std::span(values, static_cast<std::size_t>(kFsaverage5Outputs)), "t = 0 s"};
  double fcpu = 0;
  const double fms = median_ms(10, [&] { fig.raster_maps(std::span(&frame, 1), buf, 4 * fig.pixel_width()); }, &fcpu);
  std::printf("4-panel frame %dx%d: %.2f ms wall, %.2f ms CPU\n", fig.pixel_width(), fig.pixel_height(), fms, fcpu);

  for (const char* enc : {"libx264", "mpeg4"}) {
    MovieOptions mo;
    mo.figure = fo;
    mo.encoder = enc;
    const fs::path out = fs::temp_directory_path() / (std::string("viz_bench_") + enc + ".mp4");
    const double a = now(), ca = cpu();
    write_movie(ctx, surf, std::span(values, static_cast<std::size_t>(rows * kFsaverage5Outputs)), rows, {}, mo, out);
    std::printf("movie %lld frames (%s): %.2f s wall, %.2f s CPU, %.1f MB\n", static_cast<long long>(rows), enc, now() - a,
                cpu() - ca, static_cast<double>(fs::file_size(out)) / 1e6);
    fs::remove(out);
  }
  return 0;
}
