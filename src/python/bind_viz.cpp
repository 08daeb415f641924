// Brain figures for Python: the engine's renderer and cairo layout draw the panels into an
// RGBA array (PlotBrain embeds it in a matplotlib figure), and MP4 movies.
#include <cstring>
#include <memory>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <pybind11/stl.h>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/movie.hpp"
#include "tribev2/viz/color_limits.hpp"
#include "tribev2/roi/overlay.hpp"
#include "stimuli.hpp"

namespace tribev2::python {

namespace {

struct PySurface {
  std::shared_ptr<const viz::BrainSurface> surface;
  std::string mesh_dir;
};

template <class T>
std::optional<T> get(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return std::nullopt;
  return d[key].cast<T>();
}

// FigureOptions from keyword arguments named like the `tribev2 plot` options.
viz::FigureOptions figure_options(const py::dict& d) {
  static const char* known[] = {"layout", "view", "hemi", "cmap", "vmin", "vmax", "percentile", "symmetric",
                                "threshold", "title", "colorbar_label", "colorbar", "dpi", "size", "panel_width",
                                "columns", "bg_darkness", "bg_on_data", "supersample", "alpha_cmap",
                                "annotated_rois", "roi_names", "roi_atlas", "roi_outline", "data_dir"};
  for (auto [k, v] : d) {
    const std::string key = k.cast<std::string>();
    bool ok = false;
    for (const char* n : known) ok = ok || key == n;
    if (!ok) throw py::type_error("unknown figure option '" + key + "'");
  }
  viz::FigureOptions o;
  const auto view = get<std::string>(d, "view");
  const auto layout = get<std::string>(d, "layout");
  o.layout = layout ? viz::parse_layout(*layout) : (view ? viz::Layout::Single : viz::Layout::FourPanel);
  o.view = view ? viz::parse_view(*view) : viz::View::Lateral;
  o.hemi = viz::parse_hemi_set(get<std::string>(d, "hemi").value_or("left"));
  o.cmap = get<std::string>(d, "cmap").value_or("RdBu_r");
  viz::Colormap::get(o.cmap);  // a clear error for an unknown name
  o.limits.vmin = get<double>(d, "vmin");
  o.limits.vmax = get<double>(d, "vmax");
  o.limits.percentile = get<double>(d, "percentile");
  o.limits.symmetric = viz::parse_symmetric(get<std::string>(d, "symmetric").value_or("auto"));
  o.threshold = get<double>(d, "threshold");
  o.title = get<std::string>(d, "title").value_or("");
  o.colorbar_label = get<std::string>(d, "colorbar_label").value_or("");
  o.colorbar = get<bool>(d, "colorbar").value_or(true);
  o.dpi = get<double>(d, "dpi").value_or(150.0);
  if (auto s = get<std::pair<double, double>>(d, "size")) o.size_in = *s;
  o.panel_width_in = get<double>(d, "panel_width").value_or(2.4);
  o.columns = get<int>(d, "columns").value_or(0);
  o.bg_darkness = static_cast<float>(get<double>(d, "bg_darkness").value_or(0.7));
  o.bg_on_data = get<bool>(d, "bg_on_data").value_or(false);
  o.supersample = get<int>(d, "supersample").value_or(2);
  // upstream's alpha_cmap = (threshold, scale), as `tribev2 plot --alpha-cmap A0,A1`.
  if (auto a = get<std::pair<double, double>>(d, "alpha_cmap")) {
    o.alpha_cmap = *a;
    viz::Colormap::get(o.cmap, a->first, a->second);  // validates the pair
    if (o.bg_on_data) fail("bg_on_data and alpha_cmap do not go together (upstream turns bg_on_data off with an alpha colormap)");
  }
  viz::layout_panels(o.layout, o.view, o.hemi);  // validates view + hemisphere
  // upstream's annotated_rois (names or V1*-style patterns, outlined and named in both
  // hemispheres) in roi_atlas's regions, or every region of roi_outline outlined; roi_names
  // {ROI: shown text} as upstream's dict form. As `tribev2 plot --annotate-rois --roi-outline`.
  auto ov = roi::overlay_for(get<std::string>(d, "roi_outline").value_or(""),
                             get<std::string>(d, "roi_atlas").value_or("hcp-mmp1"),
                             get<std::vector<std::string>>(d, "annotated_rois").value_or(std::vector<std::string>{}),
                             viz::resolve_mesh_dir(get<std::string>(d, "data_dir").value_or("")));
  if (ov) {
    if (auto shown = get<std::map<std::string, std::string>>(d, "roi_names"))
      for (auto& [region, text] : ov->names)
        if (const auto it = shown->find(text); it != shown->end()) text = it->second;
    o.roi_overlay = std::make_shared<const viz::RoiOverlay>(std::move(*ov));
  }
  return o;
}

// [n, 20484] (or [20484]) float32 maps, checked.
InputArray maps_of(py::handle a, std::int64_t& n) {
  InputArray in = input_f32(a, "maps");
  const auto& s = in.tensor.shape();
  if (s.size() == 1) n = 1;
  else if (s.size() == 2) n = s[0];
  else fail("maps: expected [20484] or [n, 20484] values, got shape ", shape_str(s));
  TRIBEV2_CHECK(s.back() == viz::kFsaverage5Outputs, "maps: expected ", viz::kFsaverage5Outputs,
                " values per map (fsaverage5, left then right), got ", s.back());
  TRIBEV2_CHECK(n > 0, "maps: no map to draw");
  return in;
}

// upstream's show_stimuli rows from {video, video_origin, audio, audio_origin, words: [(start,
// duration, text)], block_times: [...], span: (start, stop)} (built by PlotBrain from the
// segments' events), as `tribev2 plot --stimuli` builds them from a run folder.
struct StripRequest {
  cli::StimulusSource source;
  std::vector<double> block_times;
  std::pair<double, double> span;
};
StripRequest stimulus_request(const py::dict& d) {
  cli::StimulusSource src;
  if (auto v = get<std::string>(d, "video")) src.video = *v;
  if (auto v = get<std::string>(d, "audio")) src.audio = *v;
  src.video_origin = get<double>(d, "video_origin").value_or(0.0);
  src.audio_origin = get<double>(d, "audio_origin").value_or(0.0);
  if (auto w = get<std::vector<std::tuple<double, double, std::string>>>(d, "words"))
    for (const auto& [start, dur, text] : *w) src.words.push_back({start, dur, text});
  std::sort(src.words.begin(), src.words.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  const auto times = get<std::vector<double>>(d, "block_times").value_or(std::vector<double>{});
  const auto span = get<std::pair<double, double>>(d, "span");
  TRIBEV2_CHECK(span.has_value(), "stimuli: the time span (start, stop) is missing");
  return {std::move(src), times, *span};
}

// upstream's plot_timesteps_mp4 captions: per row, the window [start, stop) of segments[i] and
// that segment's Word events as (start, duration, text) (built by PlotBrain). The caption is the
// one `tribev2 movie` writes (cli::caption_for: the words whose onset lies in the window, lower
// case, punctuation removed, the last 8).
using CaptionWord = std::tuple<double, double, std::string>;
using CaptionRow = std::tuple<double, double, std::vector<CaptionWord>>;
std::vector<std::string> movie_captions(const std::vector<CaptionRow>& rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [start, stop, words] = rows[i];
    TRIBEV2_CHECK(std::isfinite(start) && std::isfinite(stop) && stop > start, "segments[", i,
                  "]: expected a window start < stop (finite seconds), got [", start, ", ", stop, ")");
    cli::StimulusSource src;
    for (const auto& [w_start, w_dur, text] : words) {
      TRIBEV2_CHECK(std::isfinite(w_start), "segments[", i, "]: Word event '", text, "' has no finite start (got ", w_start, ")");
      src.words.push_back({w_start, w_dur, text});
    }
    std::stable_sort(src.words.begin(), src.words.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    out.push_back(cli::caption_for(src, start, stop));
  }
  return out;
}

}  // namespace

void register_viz(py::module_& m) {
  py::class_<PySurface>(m, "Surface", "fsaverage5 meshes ready to draw.")
      .def(py::init([](const std::string& mesh_dir, const std::string& surface, const std::string& background,
                       double hemisphere_gap) {
             viz::SurfaceOptions so;
             so.surface = viz::parse_surface(surface);
             so.background = viz::parse_background(background);
             so.hemisphere_gap = static_cast<float>(hemisphere_gap);
             const auto dir = viz::resolve_mesh_dir(mesh_dir);
             auto s = call_interruptible([&](const std::atomic<bool>&) {
               return std::make_shared<const viz::BrainSurface>(viz::load_fsaverage5(dir, so));
             });
             return PySurface{std::move(s), dir.string()};
           }),
           py::arg("mesh_dir") = "", py::arg("surface") = "half", py::arg("background") = "sulc",
           py::arg("hemisphere_gap") = 0.0)
      .def_property_readonly("mesh_dir", [](const PySurface& s) { return s.mesh_dir; });

  m.def(
      "render_maps",
      [](const PySurface& surface, py::handle maps, const std::vector<std::string>& labels, const py::dict& options,
         int threads, std::optional<double> norm_percentile, const py::dict& stimuli) {
        std::int64_t n = 0;
        const InputArray in = maps_of(maps, n);
        TRIBEV2_CHECK(labels.empty() || static_cast<std::int64_t>(labels.size()) == n, "labels: ", labels.size(),
                      " labels for ", n, " maps");
        viz::FigureOptions fo = figure_options(options);
        std::optional<StripRequest> strip;
        if (!stimuli.empty()) strip = stimulus_request(stimuli);
        auto [w, h, pixels] = call_interruptible([&](const std::atomic<bool>&) {
          const Context ctx(threads > 0 ? threads : threads_from_env(0));
          if (strip)  // decodes the video frames and the audio of the span
            fo.stimuli = std::make_shared<const viz::StimulusStrip>(
                cli::build_stimulus_strip(strip->source, strip->block_times, strip->span.first, strip->span.second));
          std::vector<viz::MapFrame> frames;
          const float* p = in.tensor.data<float>();
          // upstream's plot_timesteps: robust_normalize over all the maps drawn at once (on a copy).
          std::vector<float> normed;
          if (norm_percentile) {
            normed.assign(p, p + n * viz::kFsaverage5Outputs);
            viz::robust_normalize(normed, *norm_percentile);
            p = normed.data();
          }
          for (std::int64_t i = 0; i < n; ++i)
            frames.push_back({std::span<const float>(p + i * viz::kFsaverage5Outputs, viz::kFsaverage5Outputs),
                              labels.empty() ? std::string() : labels[static_cast<std::size_t>(i)]});
          viz::BrainFigure fig(ctx, *surface.surface, fo, static_cast<int>(n), !labels.empty());
          const int fw = fig.pixel_width(), fh = fig.pixel_height();
          std::vector<std::uint8_t> bgra(static_cast<std::size_t>(fw) * static_cast<std::size_t>(fh) * 4);
          fig.raster_maps(frames, bgra, 4 * fw);
          return std::make_tuple(fw, fh, std::move(bgra));
        });
        py::array_t<std::uint8_t> out({static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w), py::ssize_t{4}});
        std::uint8_t* o = out.mutable_data();
        for (std::size_t i = 0; i < pixels.size(); i += 4) {  // cairo RGB24 (B, G, R, x) -> RGBA
          o[i] = pixels[i + 2];
          o[i + 1] = pixels[i + 1];
          o[i + 2] = pixels[i];
          o[i + 3] = 255;
        }
        return out;
      },
      py::arg("surface"), py::arg("maps"), py::arg("labels") = std::vector<std::string>{},
      py::arg("options") = py::dict(), py::arg("threads") = 0, py::arg("norm_percentile") = py::none(),
      py::arg("stimuli") = py::dict(),
      "Draws maps [n, 20484] as one figure (a block of panels per map, labels under them): uint8 RGBA [H, W, 4]. "
      "norm_percentile: upstream's robust_normalize over all maps first; stimuli: upstream's show_stimuli rows "
      "({video, video_origin, audio, audio_origin, words: [(start, duration, text)], block_times, span}).");

  m.def(
      "robust_normalize",
      [](py::handle a, double percentile) {
        const InputArray in = input_f32(a, "data");
        std::vector<float> v(in.tensor.f32().begin(), in.tensor.f32().end());
        viz::robust_normalize(v, percentile);
        std::vector<py::ssize_t> shape(in.tensor.shape().begin(), in.tensor.shape().end());
        py::array_t<float> out(shape);
        if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(float));
        return out;
      },
      py::arg("data"), py::arg("percentile"),
      "upstream's robust_normalize over all values (a new float32 array): clip((v - lo) / (hi - lo), 0, 1) with "
      "lo, hi the (100-P)-th and P-th percentiles.");

  m.def(
      "write_movie",
      [](const PySurface& surface, py::handle rows, std::vector<double> row_times, const std::string& out,
         const py::dict& options, double fps, int frames_per_row, int threads, bool progress,
         std::optional<double> interpolated_fps, std::optional<std::vector<CaptionRow>> captions) {
        std::int64_t n = 0;
        const InputArray in = maps_of(rows, n);
        TRIBEV2_CHECK(row_times.empty() || static_cast<std::int64_t>(row_times.size()) == n, "row_times: ",
                      row_times.size(), " times for ", n, " rows");
        TRIBEV2_CHECK(fps > 0, "fps must be positive, got ", fps);
        viz::MovieOptions mo;
        mo.figure = figure_options(options);
        mo.fps = fps;
        mo.frames_per_row = frames_per_row;
        if (interpolated_fps) viz::set_interpolated_fps(mo, *interpolated_fps);  // as `tribev2 movie --interpolated-fps`
        if (captions) {
          TRIBEV2_CHECK(static_cast<std::int64_t>(captions->size()) == n, "captions: ", captions->size(),
                        " segments for ", n, " rows");
          mo.captions = movie_captions(*captions);
        }
        return call_interruptible([&](const std::atomic<bool>& cancel) {
          const Context ctx(threads > 0 ? threads : threads_from_env(0));
          mo.progress = progress_fn("movie", progress, cancel);
          return viz::write_movie(ctx, *surface.surface, in.tensor.f32(), n, row_times, mo, out);
        });
      },
      py::arg("surface"), py::arg("rows"), py::arg("row_times"), py::arg("out"), py::arg("options") = py::dict(),
      py::arg("fps") = 1.0, py::arg("frames_per_row") = 1, py::arg("threads") = 0, py::arg("progress") = false,
      py::arg("interpolated_fps") = py::none(), py::arg("captions") = py::none(),
      "Writes an MP4 movie of rows [n, 20484]; returns the encoder used. interpolated_fps: upstream's "
      "(F frames per row blended linearly, at F fps; overrides fps and frames_per_row); captions: one "
      "(start, stop, [(start, duration, text), ...]) per row, the window and Word events of each segment, "
      "captioned as `tribev2 movie` does (the last 8 words with their onset in the window).");

  m.def("movie_captions", &movie_captions, py::arg("rows"),
        "The captions write_movie draws for rows of (start, stop, [(start, duration, text), ...]): the words "
        "whose onset lies in [start, stop], lower case, punctuation removed, the last 8 (upstream's get_text).");
}

}  // namespace tribev2::python
