// Region-of-interest subcommands: `roi` (upstream's summarize_by_roi / get_topk_rois over a
// prediction file, as TSV tables) and `fetch-atlas` (pinned atlas downloads). The roi layer
// does the work; this file parses arguments and reports.
#include <iostream>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/roi/fetch_atlas.hpp"
#include "tribev2/roi/tables.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/outputs.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

namespace {

// "0,5,10" and Python-like "a:b[:step]" slices (end exclusive; negative counts from the end).
std::vector<std::int64_t> roi_rows(const std::string& spec, std::int64_t n) {
  std::vector<std::int64_t> out;
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
  std::size_t pos = 0;
  while (true) {
    const auto comma = spec.find(',', pos);
    const std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const auto c1 = part.find(':');
    if (c1 == std::string::npos) {
      out.push_back(num(part, 0));
    } else {
      const auto c2 = part.find(':', c1 + 1);
      const std::int64_t a = num(part.substr(0, c1), 0);
      const std::int64_t b = num(part.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1), n);
      const std::int64_t step = c2 == std::string::npos ? 1 : num(part.substr(c2 + 1), 1);
      if (step <= 0) fail("--rows: the step must be positive in '", part, "'");
      for (std::int64_t r = a; r < std::min(b, n); r += step) out.push_back(r);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) fail("--rows '", spec, "' selects no row");
  for (const auto r : out)
    if (r < 0 || r >= n) fail("--rows: row ", r, " is out of range (the predictions have ", n, " rows)");
  return out;
}

struct RoiArgs {
  std::string input, atlas = "hcp-mmp1", hemi = "both", rows, out = "roi.tsv", data_dir, segments;
  int top = 10;
  bool no_mean = false;
};

void run_roi(const GlobalOptions& g, const RoiArgs& a) {
  TRIBEV2_CHECK(fs::path(a.input).extension() == ".npy", a.input, ": expected a .npy file of predictions [n_rows, 20484]");
  TRIBEV2_CHECK(a.top >= 1, "--top must be at least 1, got ", a.top);
  const Tensor rows = viz::as_prediction_rows(io::read_npy(a.input), a.input).to_f32();
  const roi::Atlas atlas = roi::load_atlas(a.atlas, viz::resolve_mesh_dir(a.data_dir));
  roi::RoiTableOptions o;
  o.hemi = roi::parse_hemi(a.hemi);
  o.top_k = a.top;
  o.mean_line = !a.no_mean;
  if (!a.rows.empty()) o.rows = roi_rows(a.rows, rows.dim(0));
  const fs::path seg = a.segments.empty() ? fs::path(a.input).parent_path() / "segments.json" : fs::path(a.segments);
  if (!a.segments.empty() || fs::exists(seg)) {
    try {
      o.row_times = viz::read_row_times(seg, rows.dim(0));
    } catch (const Error& e) {
      if (!a.segments.empty()) throw;
      log(g, std::string("note: ignoring ") + seg.string() + " (" + e.what() + ")");
    }
  }
  const fs::path top = roi::write_roi_tables(atlas, rows, o, a.out);
  log(g, "wrote " + a.out + " (" + std::to_string(roi::summary_names(atlas, o.hemi).size()) + " ROIs of " + atlas.name + ") and " +
             top.string());
}

}  // namespace

void register_roi(CLI::App& app, GlobalOptions& g) {
  {
    auto a = std::make_shared<RoiArgs>();
    auto* cmd = app.add_subcommand("roi", "Mean prediction per region of interest (upstream's summarize_by_roi, get_topk_rois) as TSV");
    cmd->add_option("input", a->input, "Predictions .npy [n_rows, 20484]")->required();
    cmd->add_option("--atlas", a->atlas, "hcp-mmp1 | hcp-mmp1-combined | desikan | destrieux (see fetch-atlas), or LH.annot,RH.annot")
        ->capture_default_str();
    cmd->add_option("--hemi", a->hemi, "left | right | both | both_separate (upstream's hemi)")->capture_default_str();
    cmd->add_option("--rows", a->rows, "Rows to list: 0,10,20 or 0:100:10 (default: all)");
    cmd->add_option("--top", a->top, "How many ROIs the top-k table lists")->capture_default_str();
    cmd->add_option("--out,-o", a->out, "Summary TSV; the top-k table goes next to it as <stem>_top<K>.tsv")->capture_default_str();
    cmd->add_flag("--no-mean", a->no_mean, "Leave out the line of the mean map over all rows");
    cmd->add_option("--segments", a->segments, "segments.json for the time column (default: the one next to the input)");
    cmd->add_option("--data-dir", a->data_dir, "Folder with the meshes and atlases (default: the fetch-mesh folder)");
    cmd->callback([&g, a] { run_roi(g, *a); });
  }
  {
    auto name = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    auto base = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("fetch-atlas", "Download an atlas's annotation files from the URLs MNE pins (digests checked)");
    cmd->add_option("atlas", *name, "hcp-mmp1 | hcp-mmp1-combined | desikan | destrieux")->required();
    cmd->add_option("--dir", *dir, "Destination (default: the fetch-mesh folder, next to the meshes)");
    cmd->add_option("--base-url", *base, "Download every file from this folder URL instead (default: $TRIBEV2_ATLAS_BASE_URL, else the pinned URLs)");
    cmd->add_flag("--force", *force, "Download again even when the files are present");
    cmd->callback([&g, name, dir, base, force] {
      const auto kind = roi::parse_atlas_kind(*name);
      if (!kind) fail("fetch-atlas: unknown atlas '", *name, "' (expected hcp-mmp1 | hcp-mmp1-combined | desikan | destrieux)");
      const fs::path d = viz::resolve_mesh_dir(*dir);
      if (*kind == roi::AtlasKind::HcpMmp1 || *kind == roi::AtlasKind::HcpMmp1Combined)
        log(g, "HCP-MMP1 (Glasser et al. 2016): use is subject to the terms of the HCP-MMP webpage (https://balsa.wustl.edu/WN56)");
      roi::AtlasFetchOptions o;
      o.base_url = *base;
      o.force = *force;
      o.log = [&g](const std::string& l) { log(g, l); };
      roi::fetch_atlas(*kind, d, o);
      // Reading the files back proves they are usable annotations before saying so.
      const auto atlas = roi::load_atlas(*name, d);
      log(g, std::string(roi::atlas_kind_name(*kind)) + ": " + std::to_string(atlas.left.size()) + " + " +
                 std::to_string(atlas.right.size()) + " regions in " + d.string());
    });
  }
}

}  // namespace tribev2::cli
