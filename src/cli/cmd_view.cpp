// `tribev2 view`: writes the interactive browser viewer (one HTML file, NiiVue inlined) for a
// prediction, with the stimulus beside it in a folder the page names relatively. The page is
// built by viz::build_viewer_html; this file finds the inputs and copies the media.
#include <iostream>

#include "common.hpp"
#include "stimuli.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/roi/atlas.hpp"
#include "tribev2/roi/overlay.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/outputs.hpp"
#include "tribev2/viz/viewer.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

namespace {

struct ViewArgs {
  std::string input, out = "viewer.html", stimulus, events, segments, mesh_dir, cmap = "fire", surface = "half", niivue,
      atlas, data_dir;
  bool no_atlas = false;
  std::vector<double> alpha_cmap;
  std::optional<double> vmin, vmax, norm_percentile;
  double threshold = 0;
  int bits = 16;
};

bool is_video(const fs::path& p) {
  std::string e = p.extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == ".mp4" || e == ".mkv" || e == ".webm" || e == ".mov" || e == ".avi" || e == ".m4v" || e == ".ogv";
}

void run_view(const GlobalOptions& g, const ViewArgs& a) {
  const fs::path in = a.input;
  const fs::path preds = fs::is_directory(in) ? in / "preds.npy" : in;
  TRIBEV2_CHECK(preds.extension() == ".npy", preds.string(), ": expected a predictions .npy or a `tribev2 run` output folder");
  const Tensor rows = viz::as_prediction_rows(io::read_npy(preds), preds.string());
  const std::int64_t n = rows.dim(0);
  fs::path seg = a.segments.empty() ? preds.parent_path() / "segments.json" : fs::path(a.segments);
  viz::ViewerData d;
  d.n_rows = n;
  d.row_start = viz::read_row_times(fs::exists(seg) ? seg : fs::path(), n);
  std::vector<float> values(rows.f32().begin(), rows.f32().end());
  if (a.norm_percentile) viz::robust_normalize(values, *a.norm_percentile);
  d.rows = values;
  d.title = "tribev2 view: " + preds.string();
  // The stimulus: the run folder's events.tsv (words, media path), overridden by --stimulus/--events.
  StimulusSource src;
  if (!a.events.empty()) src = read_stimulus_events(a.events);
  else if (fs::is_directory(in) && fs::exists(in / "events.tsv")) src = stimulus_from_run_dir(in);
  for (const auto& w : src.words) d.words.push_back({w.start, w.text});
  fs::path media = a.stimulus;
  double origin = 0;
  if (media.empty()) {
    if (!src.video.empty() && fs::exists(src.video)) media = src.video, origin = src.video_origin;
    else if (!src.audio.empty() && fs::exists(src.audio)) media = src.audio, origin = src.audio_origin;
  }
  const fs::path out = a.out;
  if (!media.empty()) {
    TRIBEV2_CHECK(fs::is_regular_file(media), media.string(), ": no such stimulus file");
    // The media goes beside the page, in <stem>_media/, named relatively (file:// pages cannot
    // embed large media efficiently, and a relative folder keeps the pair movable).
    const std::string folder = out.stem().string() + "_media";
    const fs::path dir = out.parent_path() / folder;
    fs::create_directories(dir);
    const fs::path dst = dir / media.filename();
    std::error_code ec;
    if (!fs::exists(dst) || fs::file_size(dst) != fs::file_size(media)) {
      fs::remove(dst, ec);
      fs::create_hard_link(media, dst, ec);
      if (ec) fs::copy_file(media, dst, fs::copy_options::overwrite_existing);
    }
    d.media_kind = is_video(media) ? "video" : "audio";
    d.media_src = folder + "/" + media.filename().string();
    d.media_origin = origin;
  }
  // The atlas named on a click: --atlas, else the one installed next to the meshes (hcp-mmp1
  // first, as `run`'s roi.tsv), else none.
  std::string atlas_note;
  if (!a.no_atlas) {
    const fs::path data_dir = viz::resolve_mesh_dir(a.data_dir.empty() ? a.mesh_dir : a.data_dir);
    std::string spec = a.atlas;
    if (spec.empty())
      if (const auto kind = roi::installed_atlas(data_dir)) spec = roi::atlas_kind_name(*kind);
    if (!spec.empty()) {
      auto vr = roi::vertex_regions(roi::load_atlas(spec, data_dir));
      d.roi_names = std::move(vr.names);
      d.roi_labels = std::move(vr.region);
      atlas_note = ", atlas " + spec;
    }
  }
  viz::ViewerOptions o;
  o.cmap = a.cmap;
  if (!a.alpha_cmap.empty()) {
    TRIBEV2_CHECK(a.alpha_cmap.size() == 2, "--alpha-cmap expects A0,A1");
    o.alpha_cmap = std::pair{a.alpha_cmap[0], a.alpha_cmap[1]};
  }
  o.limits.vmin = a.vmin;
  o.limits.vmax = a.vmax;
  o.threshold = a.threshold;
  o.surface = a.surface;
  o.bits = a.bits;
  o.mesh_dir = viz::resolve_mesh_dir(a.mesh_dir);
  o.niivue_js = a.niivue;
  const std::string html = viz::build_viewer_html(d, o);
  io::write_text_file_atomic(out, html);
  log(g, "wrote " + out.string() + " (" + std::to_string(html.size() / 1024) + " KiB, " + std::to_string(n) + " rows" +
             (d.media_src.empty() ? std::string(", no stimulus media") : ", media " + d.media_src) + atlas_note + ")");
}

}  // namespace

void register_view(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ViewArgs>();
  auto* cmd = app.add_subcommand("view", "Write an interactive browser viewer (one HTML file, NiiVue) synchronised with the stimulus");
  cmd->add_option("input", a->input, "A `tribev2 run` output folder, or a predictions .npy [n_rows, 20484]")->required();
  cmd->add_option("--out,-o", a->out, "Output .html (the stimulus is put in <stem>_media/ beside it)")->capture_default_str();
  cmd->add_option("--stimulus", a->stimulus, "The video or audio to play along (default: the run folder's stimulus)");
  cmd->add_option("--events", a->events, "events.tsv for the words (default: the run folder's)");
  cmd->add_option("--segments", a->segments, "segments.json for the row times (default: the one next to the predictions)");
  cmd->add_option("--cmap", a->cmap, "Initial colormap (the same tables as `plot`)")->capture_default_str();
  cmd->add_option("--alpha-cmap", a->alpha_cmap, "Initial alpha ramp A0,A1 (upstream's alpha_cmap)")->delimiter(',')->expected(2);
  cmd->add_option("--vmin", a->vmin, "Initial lower colour limit");
  cmd->add_option("--vmax", a->vmax, "Initial upper colour limit");
  cmd->add_option("--threshold", a->threshold, "Initial threshold: |v| below it shows the background")->capture_default_str();
  cmd->add_option("--norm-percentile", a->norm_percentile, "robust_normalize all rows to [0, 1] first (upstream's norm_percentile)");
  cmd->add_option("--surface", a->surface, "Initial surface: pial | half | inflated")->capture_default_str();
  cmd->add_option("--bits", a->bits, "Quantisation of the values: 16 (~55 kB per TR) or 8 (~27 kB per TR)")->capture_default_str();
  cmd->add_option("--mesh-dir", a->mesh_dir, "Folder with the fsaverage5 files (default: $TRIBEV2_MESH_DIR or the XDG data dir)");
  cmd->add_option("--atlas", a->atlas,
                  "Atlas whose region names a click on the brain shows: hcp-mmp1, hcp-mmp1-combined, desikan, destrieux "
                  "or LH.annot,RH.annot (default: the first of hcp-mmp1, desikan, destrieux installed by fetch-atlas)");
  cmd->add_option("--data-dir", a->data_dir, "Folder holding the atlases (default: the mesh folder)");
  cmd->add_flag("--no-atlas", a->no_atlas, "No region names, even when an atlas is installed");
  cmd->add_option("--niivue", a->niivue, "NiiVue's dist/niivue.umd.js (default: $TRIBEV2_NIIVUE_JS, the installed copy, the source tree's)");
  cmd->callback([a, &g] { run_view(g, *a); });
}

}  // namespace tribev2::cli
