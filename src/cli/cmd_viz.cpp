// Visualisation subcommands: plot (PNG/SVG/PDF figures), movie (MP4), fetch-mesh (fsaverage5
// download with SHA-256 checks) and to-gifti (GIFTI time series / maps). The work is done by
// the viz layer; this file parses arguments and reports.
#include <chrono>
#include <iostream>

#include "common.hpp"
#include "stimuli.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/roi/overlay.hpp"
#include "tribev2/viz/fetch.hpp"
#include "tribev2/viz/figure.hpp"
#include "tribev2/viz/movie.hpp"
#include "tribev2/viz/outputs.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

namespace {

// Figure options shared by plot and movie, as given on the command line.
struct FigureArgs {
  std::string layout;  // empty: 4panel, or single when --view is given
  std::string view, hemi = "left", surface = "half", cmap = "RdBu_r", background = "sulc", symmetric = "auto";
  std::optional<double> vmin, vmax, percentile, threshold, norm_percentile;
  std::vector<double> alpha_cmap;
  std::string title, colorbar_label, size, mesh_dir;
  bool no_colorbar = false, bg_on_data = false;
  double dpi = 150, panel_width = 2.4, bg_darkness = 0.7, gap = 0;
  int columns = 0, supersample = 2;
};

void add_figure_options(CLI::App* cmd, FigureArgs& f) {
  cmd->add_option("--layout", f.layout, "single | lateral | lateral-medial | 4panel | 6view (default: 4panel; single with --view)");
  cmd->add_option("--view", f.view, "lateral | medial | dorsal | ventral | anterior | posterior (implies --layout single)");
  cmd->add_option("--hemi", f.hemi, "Hemisphere of a single view: left | right | both")->capture_default_str();
  cmd->add_option("--surface", f.surface, "pial | white | inflated | half (upstream TRIBE's half-inflated) | sphere")->capture_default_str();
  cmd->add_option("--cmap", f.cmap,
                  "matplotlib: RdBu_r coolwarm bwr seismic hot viridis plasma inferno gray; nilearn: cold_hot cold_white_hot "
                  "black_red black_blue ...; fire (colorcet, upstream's demo); + _r reverses")
      ->capture_default_str();
  cmd->add_option("--alpha-cmap", f.alpha_cmap,
                  "A0,A1: upstream's alpha_cmap: the colours fade in from transparent at A0 to opaque at A0+A1 of the "
                  "colour range (the demo: 0,0.2); turns --bg-on-data off, as upstream")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--norm-percentile", f.norm_percentile,
                  "upstream's norm_percentile: map the values drawn to [0, 1] between their (100-P)-th and P-th "
                  "percentiles, clipped (robust_normalize; the demo: 99)");
  cmd->add_option("--vmin", f.vmin, "Lower colour limit");
  cmd->add_option("--vmax", f.vmax, "Upper colour limit");
  cmd->add_option("--symmetric", f.symmetric, "Symmetric limits +-vmax: auto (when the data has both signs) | yes | no")->capture_default_str();
  cmd->add_option("--percentile", f.percentile, "Robust limits: the P-th percentile instead of the extremes (e.g. 99)");
  cmd->add_option("--threshold", f.threshold, "Values with |v| below this show the background");
  cmd->add_option("--title", f.title, "Figure title");
  cmd->add_option("--colorbar-label", f.colorbar_label, "Label of the colour bar");
  cmd->add_flag("--no-colorbar", f.no_colorbar, "No colour bar");
  cmd->add_option("--dpi", f.dpi, "Resolution (pixels per inch; text sizes are in points)")->capture_default_str();
  cmd->add_option("--size", f.size, "Whole figure size in inches, WxH (default: from the layout)");
  cmd->add_option("--panel-width", f.panel_width, "Width of one brain panel in inches (automatic size)")->capture_default_str();
  cmd->add_option("--columns", f.columns, "Maps per row in a mosaic (0: automatic)")->capture_default_str();
  cmd->add_option("--bg", f.background, "Background shading: sulc | curv | none")->capture_default_str();
  cmd->add_option("--bg-darkness", f.bg_darkness, "Darkness of the deepest sulci (0..1, nilearn: 0.7)")->capture_default_str();
  cmd->add_flag("--bg-on-data", f.bg_on_data, "Let the background show through the data (nilearn's bg_on_data)");
  cmd->add_option("--hemisphere-gap", f.gap, "Millimetres between the hemispheres in dorsal/ventral/... views")->capture_default_str();
  cmd->add_option("--supersample", f.supersample, "Antialiasing samples per pixel and axis (1-4)")->capture_default_str();
  cmd->add_option("--mesh-dir", f.mesh_dir, "Folder with the fsaverage5 files (default: $TRIBEV2_MESH_DIR or the XDG data dir)");
}

std::pair<double, double> parse_size(const std::string& s) {
  const auto x = s.find_first_of("x,");
  if (x == std::string::npos) fail("--size expects WxH in inches (e.g. 8x6), got '", s, "'");
  try {
    std::size_t a = 0, b = 0;
    const double w = std::stod(s.substr(0, x), &a), h = std::stod(s.substr(x + 1), &b);
    if (a != x || b != s.size() - x - 1) throw std::invalid_argument("trailing characters");
    return {w, h};
  } catch (const std::exception&) {
    fail("--size expects WxH in inches (e.g. 8x6), got '", s, "'");
  }
}

viz::FigureOptions figure_options(const FigureArgs& f) {
  viz::FigureOptions o;
  o.layout = !f.layout.empty() ? viz::parse_layout(f.layout) : (!f.view.empty() ? viz::Layout::Single : viz::Layout::FourPanel);
  o.view = f.view.empty() ? viz::View::Lateral : viz::parse_view(f.view);
  o.hemi = viz::parse_hemi_set(f.hemi);
  o.cmap = f.cmap;
  viz::Colormap::get(o.cmap);  // fail early on a bad name
  if (!f.alpha_cmap.empty()) {
    TRIBEV2_CHECK(f.alpha_cmap.size() == 2, "--alpha-cmap expects two numbers A0,A1, got ", f.alpha_cmap.size());
    o.alpha_cmap = std::pair{f.alpha_cmap[0], f.alpha_cmap[1]};
    viz::Colormap::get(o.cmap, f.alpha_cmap[0], f.alpha_cmap[1]);  // validates the pair
    if (f.bg_on_data) fail("--bg-on-data and --alpha-cmap do not go together (upstream turns bg_on_data off with an alpha colormap)");
  }
  o.limits.vmin = f.vmin;
  o.limits.vmax = f.vmax;
  o.limits.percentile = f.percentile;
  o.limits.symmetric = viz::parse_symmetric(f.symmetric);
  o.threshold = f.threshold;
  o.title = f.title;
  o.colorbar_label = f.colorbar_label;
  o.colorbar = !f.no_colorbar;
  o.dpi = f.dpi;
  if (!f.size.empty()) o.size_in = parse_size(f.size);
  o.panel_width_in = f.panel_width;
  o.columns = f.columns;
  o.bg_darkness = static_cast<float>(f.bg_darkness);
  o.bg_on_data = f.bg_on_data;
  o.supersample = f.supersample;
  viz::layout_panels(o.layout, o.view, o.hemi);  // validates view + hemisphere
  return o;
}

viz::BrainSurface load_surface(const FigureArgs& f) {
  viz::SurfaceOptions so;
  so.surface = viz::parse_surface(f.surface);
  so.background = viz::parse_background(f.background);
  so.hemisphere_gap = static_cast<float>(f.gap);
  return viz::load_fsaverage5(viz::resolve_mesh_dir(f.mesh_dir), so);
}

// Row selection: "0,10,20", Python-like slices "a:b" / "a:b:step" (end exclusive), or a mix.
std::vector<std::int64_t> parse_rows(const std::string& spec, std::int64_t n) {
  std::vector<std::int64_t> rows;
  std::size_t pos = 0;
  auto num = [&](const std::string& s, std::int64_t dflt) -> std::int64_t {
    if (s.empty()) return dflt;
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size()) fail("--rows: '", s, "' is not an integer (in '", spec, "')");
    return v < 0 ? n + v : v;
  };
  while (pos <= spec.size()) {
    const auto comma = spec.find(',', pos);
    const std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.find(':') != std::string::npos) {
      const auto c1 = part.find(':'), c2 = part.find(':', c1 + 1);
      const std::int64_t a = num(part.substr(0, c1), 0);
      const std::int64_t b = num(part.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1), n);
      const std::int64_t step = c2 == std::string::npos ? 1 : num(part.substr(c2 + 1), 1);
      if (step <= 0) fail("--rows: the step must be positive in '", part, "'");
      for (std::int64_t r = a; r < std::min(b, n); r += step) rows.push_back(r);
    } else {
      rows.push_back(num(part, 0));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (rows.empty()) fail("--rows '", spec, "' selects no row");
  for (auto r : rows)
    if (r < 0 || r >= n) fail("--rows: row ", r, " is out of range (the predictions have ", n, " rows)");
  return rows;
}

// A `tribev2 run` output folder stands for its preds.npy.
std::string preds_path(const std::string& input) {
  return !input.empty() && fs::is_directory(input) ? (fs::path(input) / "preds.npy").string() : input;
}

// The time span [start, stop) of each row: the starts from row_times, the stop of a row the next
// start (the last row: one TR after its start, the TR being the common step, else 1 s).
double row_stop(std::span<const double> times, std::size_t r) {
  if (r + 1 < times.size()) return times[r + 1];
  return times[r] + (times.size() > 1 ? times[1] - times[0] : 1.0);
}

// Optional stimulus source: --stimuli RUN_DIR, or --events events.tsv, with --video / --audio.
std::optional<StimulusSource> stimulus_source(const std::string& run_dir, const std::string& events, const std::string& video,
                                              const std::string& audio) {
  if (run_dir.empty() && events.empty() && video.empty() && audio.empty()) return std::nullopt;
  StimulusSource s;
  if (!run_dir.empty()) s = stimulus_from_run_dir(run_dir);
  else if (!events.empty()) s = read_stimulus_events(events);
  override_media(s, video, audio);
  return s;
}

Tensor load_rows(const std::string& path) {
  TRIBEV2_CHECK(fs::path(path).extension() == ".npy", path, ": expected a .npy file of predictions [n_rows, 20484]");
  return viz::as_prediction_rows(io::read_npy(path), path);
}

// Row times from --segments, or from the segments file next to the predictions when it matches:
// <stem>_segments.json (what `predict --output <stem>.npy` writes), else segments.json (a `run`
// or `demo` folder, and predictions written before the stem naming).
std::vector<double> row_times_for(const GlobalOptions& g, const std::string& input, const std::string& segments, std::int64_t n) {
  if (!segments.empty()) return viz::read_row_times(segments, n);
  const fs::path in(input);
  for (const fs::path& guess : {in.parent_path() / (in.stem().string() + "_segments.json"), in.parent_path() / "segments.json"}) {
    if (!fs::exists(guess)) continue;
    try {
      return viz::read_row_times(guess, n);
    } catch (const Error& e) {
      log(g, std::string("note: ignoring ") + guess.string() + " (" + e.what() + "); rows are labelled 0, 1, 2, ... s unless another file matches");
    }
  }
  return viz::read_row_times({}, n);
}

std::span<const float> row_span(const Tensor& rows, std::int64_t r) {
  return {rows.data<float>() + static_cast<std::size_t>(r) * static_cast<std::size_t>(viz::kFsaverage5Outputs),
          static_cast<std::size_t>(viz::kFsaverage5Outputs)};
}

struct PlotArgs {
  std::string input, out, rows, segments, stat = "auto", default_set;
  std::string stimuli, events, video, audio;  // upstream's show_stimuli
  int every = 1;                              // plot_every_k_timesteps
  std::vector<double> timestamps;
  std::vector<std::string> rgb;
  std::vector<std::string> rgb_labels{"Text", "Audio", "Video"};
  double rgb_percentile = 95;
  std::string rgb_norm = "hemisphere";
  FigureArgs fig;
  // Region outlines and names (roi layer).
  std::string roi_outline, roi_atlas = "hcp-mmp1";
  std::vector<std::string> annotate_rois;
};

// --roi-outline ATLAS / --annotate-rois V1,MT: the overlay drawn on every map (none when unset).
std::shared_ptr<const viz::RoiOverlay> roi_overlay_for(const PlotArgs& a) {
  auto ov = roi::overlay_for(a.roi_outline, a.roi_atlas, a.annotate_rois, viz::resolve_mesh_dir(a.fig.mesh_dir));
  return ov ? std::make_shared<const viz::RoiOverlay>(std::move(*ov)) : nullptr;
}

void run_plot(const GlobalOptions& g, const PlotArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Context ctx = g.make_context();
  if (!a.default_set.empty()) {
    TRIBEV2_CHECK(!a.input.empty(), "--default-set needs a predictions .npy");
    const Tensor rows = load_rows(a.input);
    const auto times = row_times_for(g, a.input, a.segments, rows.dim(0));
    for (const auto& f : viz::write_default_figures(ctx, rows, times, a.default_set, a.fig.mesh_dir)) log(g, "wrote " + f.string());
    return;
  }
  TRIBEV2_CHECK(!a.out.empty(), "plot: --out FILE (.png, .svg or .pdf) is required");
  viz::FigureOptions o = figure_options(a.fig);
  o.roi_overlay = roi_overlay_for(a);
  if (!a.rgb.empty()) {
    TRIBEV2_CHECK(a.rgb.size() == 3, "--rgb expects three files (red, green, blue), got ", a.rgb.size());
    TRIBEV2_CHECK(a.rgb_labels.size() == 3, "--rgb-labels expects three names, got ", a.rgb_labels.size());
    TRIBEV2_CHECK(a.rgb_norm == "hemisphere" || a.rgb_norm == "both", "--rgb-norm must be hemisphere or both");
    std::vector<std::vector<float>> maps;
    for (const auto& f : a.rgb) {
      const Tensor t = load_rows(f);
      maps.push_back(t.dim(0) == 1 ? std::vector<float>(t.f32().begin(), t.f32().end()) : viz::row_mean(t));
    }
    o.rgb_labels = {a.rgb_labels[0], a.rgb_labels[1], a.rgb_labels[2]};
    o.rgb_percentile = a.rgb_percentile;
    o.rgb_per_hemisphere = a.rgb_norm == "hemisphere";
    const auto surf = load_surface(a.fig);
    viz::plot_rgb(ctx, surf, {maps[0], maps[1], maps[2], ""}, o, a.out);
  } else {
    const std::string input = preds_path(!a.input.empty() ? a.input : a.stimuli);
    TRIBEV2_CHECK(!input.empty(), "plot: give a predictions .npy or a run folder (or --rgb R,G,B)");
    const Tensor rows = load_rows(input);
    const std::int64_t n = rows.dim(0);
    std::vector<float> values;  // the maps drawn, one after the other
    std::vector<std::string> labels;
    std::vector<std::int64_t> drawn;
    std::string stat = a.stat;
    const auto source = stimulus_source(a.stimuli, a.events, a.video, a.audio);
    if (stat == "auto") stat = !a.rows.empty() || n == 1 || source ? "rows" : "mean";
    TRIBEV2_CHECK(a.every >= 1, "--every must be >= 1, got ", a.every);
    const auto times = row_times_for(g, input, a.segments, n);
    std::vector<std::int64_t> sel;
    if (stat == "rows") {
      sel = a.rows.empty() ? (source ? parse_rows("0:" + std::to_string(std::min<std::int64_t>(n, 15)), n) : std::vector<std::int64_t>{0})
                           : parse_rows(a.rows, n);
      // upstream's plot_every_k_timesteps: every K-th of the selected rows is drawn.
      for (std::size_t i = 0; i < sel.size(); i += static_cast<std::size_t>(a.every)) drawn.push_back(sel[i]);
      TRIBEV2_CHECK(drawn.size() <= 200, "--rows selects ", drawn.size(), " maps; a mosaic holds at most 200 (use `tribev2 movie`)");
      TRIBEV2_CHECK(a.timestamps.empty() || a.timestamps.size() == drawn.size(), "--timestamps gives ", a.timestamps.size(),
                    " times for ", drawn.size(), " maps drawn");
      for (std::size_t i = 0; i < drawn.size(); ++i) {
        const auto r = static_cast<std::size_t>(drawn[i]);
        const auto span = row_span(rows, drawn[i]);
        values.insert(values.end(), span.begin(), span.end());
        const double t = a.timestamps.empty() ? times[r] : a.timestamps[i];
        labels.push_back(drawn.size() > 1 || n > 1 || !a.timestamps.empty() ? viz::time_label(t) : "");
      }
    } else if (stat == "mean" || stat == "std") {
      TRIBEV2_CHECK(a.rows.empty(), "--rows and --stat ", stat, " do not go together");
      TRIBEV2_CHECK(!source, "the stimulus rows go with time steps (--stat rows), not a ", stat, " map");
      values = stat == "mean" ? viz::row_mean(rows) : viz::row_std(rows);
      labels.emplace_back();
      if (o.title.empty()) o.title = (stat == "mean" ? "Mean over " : "Standard deviation over ") + std::to_string(n) + " TRs";
    } else {
      fail("--stat must be auto, rows, mean or std, got '", stat, "'");
    }
    // upstream's plot_timesteps: robust_normalize over all the maps drawn at once.
    if (a.fig.norm_percentile) viz::robust_normalize(values, *a.fig.norm_percentile);
    std::vector<viz::MapFrame> frames;
    const auto per = static_cast<std::size_t>(viz::kFsaverage5Outputs);
    for (std::size_t i = 0; i < labels.size(); ++i) frames.push_back({std::span<const float>(values).subspan(i * per, per), labels[i]});
    if (source) {
      std::vector<double> block_times;
      for (auto r : drawn) block_times.push_back(times[static_cast<std::size_t>(r)]);
      // The span covers every selected row (upstream passes all segments, drawn or not).
      const double span0 = times[static_cast<std::size_t>(sel.front())];
      const double t1 = row_stop(times, static_cast<std::size_t>(sel.back()));
      o.stimuli = std::make_shared<viz::StimulusStrip>(build_stimulus_strip(*source, block_times, span0, t1));
    }
    const auto surf = load_surface(a.fig);
    viz::plot_maps(ctx, surf, frames, o, a.out);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log(g, "wrote " + a.out + " (" + std::to_string(static_cast<int>(s * 1000)) + " ms)");
}

struct MovieArgs {
  std::string input, out = "brain.mp4", rows, segments, encoder = "auto", preset = "medium";
  std::string stimuli, events;  // word captions
  std::optional<double> interpolated_fps;
  double fps = 1;
  int frames_per_row = 1, crf = 18;
  FigureArgs fig;
};

void run_movie(const GlobalOptions& g, const MovieArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  viz::MovieOptions mo;
  mo.figure = figure_options(a.fig);
  mo.fps = a.fps;
  mo.frames_per_row = a.frames_per_row;
  // upstream: ffmpeg's minterpolate from 1 frame per row to F fps; here F frames per row
  // blended linearly between the rows, at F fps (see viz::set_interpolated_fps).
  if (a.interpolated_fps) viz::set_interpolated_fps(mo, *a.interpolated_fps, "--interpolated-fps");
  mo.crf = a.crf;
  mo.encoder = a.encoder;
  mo.preset = a.preset;
  const Context ctx = g.make_context();
  const std::string input = preds_path(a.input);
  const Tensor all = load_rows(input);
  const std::int64_t n = all.dim(0);
  const auto times = row_times_for(g, input, a.segments, n);
  std::optional<StimulusSource> source = stimulus_source(a.stimuli, a.events, "", "");
  if (!source && fs::is_directory(a.input) && fs::exists(fs::path(a.input) / "events.tsv")) source = stimulus_from_run_dir(a.input);
  std::vector<float> rows;
  std::vector<double> sel_times;
  const auto sel = a.rows.empty() ? parse_rows("0:", n) : parse_rows(a.rows, n);
  rows.reserve(sel.size() * static_cast<std::size_t>(viz::kFsaverage5Outputs));
  for (auto r : sel) {
    const auto s = row_span(all, r);
    rows.insert(rows.end(), s.begin(), s.end());
    sel_times.push_back(times[static_cast<std::size_t>(r)]);
    if (source) mo.captions.push_back(caption_for(*source, times[static_cast<std::size_t>(r)], row_stop(times, static_cast<std::size_t>(r))));
  }
  if (a.fig.norm_percentile) viz::robust_normalize(rows, *a.fig.norm_percentile);
  const auto surf = load_surface(a.fig);
  Progress bar(g, "movie");
  mo.progress = [&](std::int64_t d, std::int64_t t) { bar.update(d, t); };
  mo.log = [&](const std::string& line) { log(g, line); };
  const std::string enc = viz::write_movie(ctx, surf, rows, static_cast<std::int64_t>(sel.size()), sel_times, mo, a.out);
  bar.finish();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log(g, "wrote " + a.out + " (" + enc + ", " + std::to_string((static_cast<std::int64_t>(sel.size()) - 1) * mo.frames_per_row + 1) +
             " frames at " + std::to_string(mo.fps) + " fps, " + std::to_string(s).substr(0, 5) + " s)");
}

}  // namespace

void register_viz(CLI::App& app, GlobalOptions& g) {
  {
    auto a = std::make_shared<PlotArgs>();
    auto* cmd = app.add_subcommand("plot", "Render brain maps on fsaverage5 (PNG, SVG or PDF)");
    cmd->add_option("input", a->input, "Predictions .npy [n_rows, 20484] (left then right hemisphere), or a run output folder");
    cmd->add_option("--out,-o", a->out, "Output figure: .png, .svg or .pdf");
    cmd->add_option("--default-set", a->default_set, "Instead: write the default figure set (as `predict --plot`) into this folder");
    cmd->add_option("--rows", a->rows, "Rows to draw as a mosaic with time labels: 0,10,20 or 0:100:10 (end exclusive)");
    cmd->add_option("--stat", a->stat, "auto (rows when --rows is given or there is one row, else mean) | rows | mean | std")->capture_default_str();
    cmd->add_option("--segments", a->segments, "segments.json for the time labels (default: the one next to the input)");
    cmd->add_option("--stimuli", a->stimuli,
                    "upstream's show_stimuli from a `tribev2 run` output folder: video frames, audio waveform and words above "
                    "the maps (its preds.npy is the input when none is given; default rows: the first 15)");
    cmd->add_option("--events", a->events, "Instead of --stimuli: the words (and media paths) from this events.tsv");
    cmd->add_option("--video", a->video, "The stimulus video for the stimulus rows (overrides the events' path)");
    cmd->add_option("--audio", a->audio, "The stimulus audio for the waveform row (overrides the events' path)");
    cmd->add_option("--every", a->every, "Draw every K-th selected row (upstream's plot_every_k_timesteps)")->capture_default_str();
    cmd->add_option("--timestamps", a->timestamps, "Times (s) written under the maps drawn, instead of the rows' times")
        ->delimiter(',');
    cmd->add_option("--rgb", a->rgb, "Three maps (.npy [20484] or [n, 20484], averaged) shown as red, green, blue")->delimiter(',')->expected(3);
    cmd->add_option("--rgb-labels", a->rgb_labels, "Names of the three RGB channels")->delimiter(',')->capture_default_str();
    cmd->add_option("--rgb-percentile", a->rgb_percentile, "Upper normalisation percentile of the RGB map (upstream: 95)")->capture_default_str();
    cmd->add_option("--roi-outline", a->roi_outline, "Outline every region of an atlas (hcp-mmp1, desikan, ... or LH.annot,RH.annot)");
    cmd->add_option("--annotate-rois", a->annotate_rois, "Outline and name these ROIs, e.g. V1,MT,A1 (wildcards V1* / *_v)")->delimiter(',');
    cmd->add_option("--roi-atlas", a->roi_atlas, "Atlas of --annotate-rois when --roi-outline is not given")->capture_default_str();
    cmd->add_option("--rgb-norm", a->rgb_norm, "Normalise the RGB map per drawn hemisphere (upstream) or over both")->capture_default_str();
    add_figure_options(cmd, a->fig);
    cmd->callback([a, &g] {
      run_plot(g, *a);
    });
  }
  {
    auto a = std::make_shared<MovieArgs>();
    a->fig.dpi = 100;
    a->fig.panel_width = 3.2;
    auto* cmd = app.add_subcommand("movie", "Render the prediction time series as an MP4 movie (H.264)");
    cmd->add_option("input", a->input, "Predictions .npy [n_rows, 20484] or a `tribev2 run` output folder")->required();
    cmd->add_option("--out,-o", a->out, "Output .mp4")->capture_default_str();
    cmd->add_option("--fps", a->fps, "Video frames per second (1 = real time at one frame per TR)")->capture_default_str();
    cmd->add_option("--interpolated-fps", a->interpolated_fps,
                    "upstream's interpolated_fps: F frames per row at F fps, blended linearly between rows");
    cmd->add_option("--stimuli", a->stimuli, "Word captions (last 8 words of each row) from this run folder (default: the input's, when it is one)");
    cmd->add_option("--events", a->events, "Word captions from this events.tsv");
    cmd->add_option("--frames-per-row", a->frames_per_row, "Frames per row; > 1 interpolates linearly between rows")->capture_default_str();
    cmd->add_option("--rows", a->rows, "Rows to include (default: all), e.g. 0:60")->capture_default_str();
    cmd->add_option("--segments", a->segments, "segments.json for the time labels (default: the one next to the input)");
    cmd->add_option("--encoder", a->encoder, "auto (libx264 H.264, else MPEG-4) | libx264 | mpeg4")->capture_default_str();
    cmd->add_option("--crf", a->crf, "H.264 quality: 0 (lossless) to 51 (upstream: 18)")->capture_default_str();
    cmd->add_option("--preset", a->preset, "libx264 preset: ultrafast ... veryslow (faster = larger files)")->capture_default_str();
    add_figure_options(cmd, a->fig);
    cmd->callback([a, &g] {
      run_movie(g, *a);
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto base = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    auto check = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("fetch-mesh", "Download nilearn's fsaverage5 meshes (pinned URLs, SHA-256 checked)");
    cmd->add_option("--dir", *dir, "Destination (default: $TRIBEV2_MESH_DIR, $XDG_DATA_HOME/tribev2/fsaverage5 or ~/.local/share/tribev2/fsaverage5)");
    cmd->add_option("--base-url", *base, "Download from this folder URL instead of the pinned one (a mirror, or file:///...)");
    cmd->add_flag("--force", *force, "Download again even when the files are present and valid");
    cmd->add_flag("--check", *check, "Only verify the files already there (exit 1 if any is missing or wrong)");
    cmd->callback([=, &g] {
      const fs::path d = viz::resolve_mesh_dir(*dir);
      if (*check) {
        const auto bad = viz::verify_files(d, viz::fsaverage5_files());
        if (!bad.empty()) {
          std::string list;
          for (const auto& b : bad) list += (list.empty() ? "" : ", ") + b;
          fail(d.string(), ": missing or corrupt: ", list, " (run `tribev2 fetch-mesh` to repair)");
        }
        std::cout << d.string() << ": all " << viz::fsaverage5_files().size() << " fsaverage5 files present, SHA-256 ok\n";
        return;
      }
      viz::FetchOptions o;
      o.base_url = *base;
      o.force = *force;
      o.log = [&](const std::string& line) { log(g, "fetch-mesh: " + line); };
      const auto r = viz::fetch_fsaverage5(d, o);
      std::cout << "fsaverage5 meshes in " << d.string() << " (" << r.downloaded << " downloaded, " << r.already_present
                << " already present)\n";
    });
  }
  {
    auto input = std::make_shared<std::string>();
    auto out_dir = std::make_shared<std::string>(".");
    auto stem = std::make_shared<std::string>();
    auto segments = std::make_shared<std::string>();
    auto encoding = std::make_shared<std::string>("gzip");
    auto tr = std::make_shared<double>(1.0);
    auto maps = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("to-gifti", "Write predictions as GIFTI: a time series per hemisphere (+ mean/std maps)");
    cmd->add_option("input", *input, "Predictions .npy [n_rows, 20484]")->required();
    cmd->add_option("--out-dir", *out_dir, "Output folder")->capture_default_str();
    cmd->add_option("--stem", *stem, "File name stem (default: the input's name)");
    cmd->add_option("--segments", *segments, "segments.json for the row times (default: the one next to the input)");
    cmd->add_option("--tr", *tr, "Seconds per row, stored as TimeStep")->capture_default_str();
    cmd->add_option("--encoding", *encoding, "gzip (GZipBase64Binary) | base64 | ascii")->capture_default_str();
    cmd->add_flag("--maps", *maps, "Also write the mean and standard deviation over rows as .shape.gii");
    cmd->callback([=, &g] {
      const Tensor rows = load_rows(*input);
      const std::string s = stem->empty() ? fs::path(*input).stem().string() : *stem;
      viz::TimeSeriesOptions o;
      o.tr_s = *tr;
      o.encoding = viz::parse_gifti_encoding(*encoding);
      o.row_times = row_times_for(g, *input, *segments, rows.dim(0));
      for (const auto& p : viz::write_time_series_gifti(rows, *out_dir, s, o)) std::cout << "wrote " << p.string() << "\n";
      if (*maps) {
        for (const auto& p : viz::write_map_gifti(viz::row_mean(rows), *out_dir, s + "_stat-mean", "mean over rows", o.encoding))
          std::cout << "wrote " << p.string() << "\n";
        for (const auto& p : viz::write_map_gifti(viz::row_std(rows), *out_dir, s + "_stat-std", "std over rows", o.encoding))
          std::cout << "wrote " << p.string() << "\n";
      }
    });
  }
}

}  // namespace tribev2::cli
