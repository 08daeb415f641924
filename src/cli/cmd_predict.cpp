#include <iostream>
#include <map>
#include <optional>

#include "common.hpp"
#include "tribev2/pipeline/segments_json.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/viz/outputs.hpp"

namespace tribev2::cli {

namespace {
struct PredictArgs {
  std::string model;
  std::vector<std::string> features;
  std::vector<std::string> shapes;
  std::string output = "preds.npy";
  std::string segments;
  std::optional<double> duration;
  bool pad = false;
  int batch_size = 8;
  std::int64_t overlap_trs = 0;
  std::optional<std::int64_t> subject;
  std::string latents;
  bool emit_latents = false;
  bool allow_nonfinite = false;
  std::string plot;  // folder for the default figure set (viz layer)
};
}  // namespace

void register_predict(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "Predict per-TR brain maps from 2 Hz feature time series (TribeModel.predict)");
  cmd->add_option("--model", a->model, "Model folder, weights file or Hub repo id (org/name[@rev])")->required();
  cmd->add_option("--features", a->features, "MODALITY=FILE (.npy [L, D, N], .npz, or .bin with --shape); repeatable")->required();
  cmd->add_option("--shape", a->shapes, "Shape of raw .bin features: L,D,N or MODALITY=L,D,N");
  cmd->add_option("--output", a->output, "Predictions .npy: float32 [n_rows, n_outputs]")->capture_default_str();
  cmd->add_option("--segments", a->segments, "Row/segment times .json (default: <output stem>_segments.json next to --output)");
  cmd->add_option("--duration", a->duration, "Stimulus length in seconds (default: N / feature frequency)");
  cmd->add_flag("--pad", a->pad, "Zero-pad modalities that are shorter than the longest");
  cmd->add_option("--batch-size", a->batch_size, "Segments per forward pass")->capture_default_str();
  cmd->add_option("--overlap-trs", a->overlap_trs,
                  "Overlapping segments: one every (segment TRs - K) TRs; later segments give only their rows after "
                  "the first K (upstream's overlap_trs rule; 0 = back to back)")
      ->capture_default_str();
  cmd->add_option("--subject", a->subject, "Subject row for per-subject models");
  cmd->add_flag("--emit-latents", a->emit_latents, "Also write the encoder output [n_steps, hidden] at 2 Hz");
  cmd->add_option("--latents", a->latents, "Where to write the latents (default: <output stem>_latents.npy next to --output)");
  cmd->add_flag("--allow-nonfinite", a->allow_nonfinite, "Do not reject NaN/Inf features");
  cmd->add_option("--plot", a->plot, "Also write the default figures + GIFTI time series into this folder (needs `tribev2 fetch-mesh`)");
  cmd->callback([a, &g] {
    const Context ctx = g.make_context();
    if (!a->plot.empty()) viz::check_default_figures();  // fail before a long prediction
    const auto loaded = model_io::load_brain_model(resolve_model_arg(g, a->model, hub::brain_model_files()), g.load_options());
    std::optional<Shape> all_shape;
    std::map<std::string, Shape> mod_shape;
    for (const auto& s : a->shapes) {
      const auto eq = s.find('=');
      if (eq == std::string::npos) all_shape = parse_shape(s);
      else mod_shape[s.substr(0, eq)] = parse_shape(s.substr(eq + 1));
    }
    std::vector<model::FeatureSeries> feats;
    for (const auto& spec : a->features) {
      const auto [mod, file] = split_modality_arg(spec, "--features");
      std::optional<Shape> shp = mod_shape.count(mod) ? std::optional(mod_shape[mod]) : all_shape;
      // Read window by window (pread) when the file allows: a long series never enters memory.
      io::FeatureFile ff = io::open_feature_file(file, mod, shp);
      const Tensor& t = ff.data;
      const auto* fd = loaded.model->feature_dims(mod);
      if (!fd) {
        std::string known;
        for (const auto& f : loaded.model->build_args().feature_dims) known += (known.empty() ? "" : ", ") + f.modality;
        fail(file.string(), ": modality '", mod, "' is not a modality of this model (known: ", known, ")");
      }
      if (fd->layers_dim) {
        const auto [L, D] = *fd->layers_dim;
        const std::int64_t width = loaded.model->projector_input_width(mod);
        const bool ok3 = t.ndim() == 3 && t.dim(0) == L && t.dim(1) == D;
        const bool ok2 = t.ndim() == 2 && (t.dim(0) == width || t.dim(0) == L * D);
        if (!ok3 && !ok2)
          fail(file.string(), ": features for '", mod, "' must be [", L, ", ", D, ", N] (or [", L * D, ", N]), got ",
               shape_str(t.shape()));
      }
      feats.push_back({mod, t, std::move(ff.read_window)});
    }
    model::PredictOptions o;
    o.duration = a->duration;
    o.pad = a->pad;
    o.batch_size = a->batch_size;
    o.overlap_trs = a->overlap_trs;
    o.subject = a->subject;
    o.emit_latents = a->emit_latents || !a->latents.empty();
    o.check_finite = !a->allow_nonfinite;
    Progress bar(g, "predict");
    o.progress = [&](std::int64_t d, std::int64_t t) { bar.update(d, t); };
    const std::filesystem::path out(a->output);
    // Side files are named after the predictions (x.npy -> x_segments.json, x_latents.npy), so
    // two predictions in one folder never overwrite each other's.
    const auto beside = [&](const char* suffix) { return out.parent_path() / (out.stem().string() + suffix); };
    const auto seg_path = a->segments.empty() ? beside("_segments.json") : std::filesystem::path(a->segments);
    const auto lat_path = a->latents.empty() ? beside("_latents.npy") : std::filesystem::path(a->latents);
    TRIBEV2_CHECK(seg_path != out && (!o.emit_latents || (lat_path != out && lat_path != seg_path)),
                  "--output, --segments and --latents must be different files");
    // Without --plot the rows go to the .npy as they are computed: a long stimulus never holds
    // all of its predictions in memory (the figures need them all, so --plot keeps them).
    std::optional<io::NpyRowWriter> stream;
    if (a->plot.empty()) {
      stream.emplace(out, DType::F32, Shape{loaded.model->n_outputs()});
      o.on_rows = [&](std::int64_t, const float* rows, std::int64_t n) { stream->append(rows, n); };
    }
    const auto p = model::predict(ctx, *loaded.model, loaded.data, feats, o);
    bar.finish();
    if (stream) stream->commit();
    else io::write_npy(out, p.preds);
    const std::int64_t n_written = stream ? stream->rows() : p.preds.dim(0);
    pipeline::write_segments_json(seg_path, pipeline::segments_info(p, o.overlap_trs), loaded.data);
    if (o.emit_latents) {
      io::write_npy(lat_path, p.latents);
      log(g, "wrote " + lat_path.string() + " " + shape_str(p.latents.shape()));
    }
    log(g, "wrote " + out.string() + " " + shape_str(Shape{n_written, loaded.model->n_outputs()}) + " (" + std::to_string(p.rows.size()) +
               " rows of 1 TR from " + std::to_string(p.segments.size()) + " segment(s)) and " + seg_path.string());
    if (!a->plot.empty()) {
      std::vector<double> starts;
      for (const auto& r : p.rows) starts.push_back(r.start);
      for (const auto& f : viz::write_default_figures(ctx, p.preds, starts, a->plot)) log(g, "wrote " + f.string());
    }
  });
}

}  // namespace tribev2::cli
