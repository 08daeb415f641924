// The offline demo: with real weights (--model, $TRIBEV2_MODEL or ./models/tribev2) it uses
// them; otherwise it builds the published architecture with seeded random weights, clearly
// labelled as such. Either way it predicts brain maps for a synthetic 130 s stimulus and
// writes the outputs.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "common.hpp"
#include "tribev2/pipeline/segments_json.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/model/random_model.hpp"

namespace tribev2::cli {

namespace {

// Smooth pseudo-features: a few slow sinusoids per channel plus sparse "word" pulses for
// text, so the prediction varies over time.
Tensor synthetic_features(std::int64_t L, std::int64_t D, std::int64_t N, std::uint64_t seed, bool sparse) {
  Tensor t = Tensor::empty(DType::F32, {L, D, N});
  float* p = t.data<float>();
  std::uint64_t s = seed;
  auto rnd = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(s >> 11) * 0x1.0p-53;
  };
  for (std::int64_t c = 0; c < L * D; ++c) {
    const double f1 = 0.01 + 0.2 * rnd(), f2 = 0.05 + 0.5 * rnd(), ph = 6.283 * rnd(), a = rnd();
    for (std::int64_t n = 0; n < N; ++n) {
      const double t_s = static_cast<double>(n) / 2.0;
      double v = a * std::sin(6.283 * f1 * t_s + ph) + 0.5 * std::sin(6.283 * f2 * t_s);
      if (sparse && ((n * 7 + c) % 5) > 1) v = 0.0;  // text: bins without words are zero
      p[c * N + n] = static_cast<float>(v);
    }
  }
  return t;
}

}  // namespace

void register_demo(CLI::App& app, GlobalOptions& g) {
  auto model_path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>("demo-output");
  auto seconds = std::make_shared<double>(130.0);
  auto* cmd = app.add_subcommand("demo", "Predict brain maps for a synthetic stimulus (offline; random weights unless real ones are found)");
  cmd->add_option("--model", *model_path, "Real weights (folder with config.yaml + best.ckpt or model.safetensors, or a Hub repo id)");
  cmd->add_option("--out", *out, "Output folder")->capture_default_str();
  cmd->add_option("--seconds", *seconds, "Length of the synthetic stimulus")->capture_default_str();
  cmd->callback([=, &g] {
    const Context ctx = g.make_context();
    std::string path = *model_path;
    if (path.empty()) {
      if (const char* env = std::getenv("TRIBEV2_MODEL"); env && *env) path = env;
      else if (std::filesystem::exists("models/tribev2/config.yaml")) path = "models/tribev2";
    }
    std::unique_ptr<model::BrainModel> owned;
    model::DataConfig data;
    bool random = path.empty();
    const auto t0 = std::chrono::steady_clock::now();
    model_io::LoadedModel loaded;
    if (random) {
      log(g, "demo: no real weights found -> building the published TRIBE v2 architecture with SEEDED RANDOM WEIGHTS.");
      log(g, "demo: these predictions are NOT brain predictions; they only show the pipeline works.");
      const auto cfg = model::published_brain_config();
      const auto args = model::published_build_args();
      owned = std::make_unique<model::BrainModel>(cfg, args, model::random_weights(cfg, args, 2026));
    } else {
      loaded = model_io::load_brain_model(resolve_model_arg(g, path, hub::brain_model_files()), g.load_options());
      data = loaded.data;
      log(g, "demo: using real weights from " + loaded.files.weights.string());
    }
    const model::BrainModel& m = random ? *owned : *loaded.model;
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto N = static_cast<std::int64_t>(std::llround(*seconds * data.frequency));
    TRIBEV2_CHECK(N > 0, "--seconds must be positive");
    std::vector<model::FeatureSeries> feats;
    std::uint64_t seed = 1;
    for (const auto& fd : m.build_args().feature_dims) {
      if (!fd.layers_dim) continue;
      feats.push_back({fd.modality, synthetic_features(fd.layers_dim->first, fd.layers_dim->second, N, seed++, fd.modality == "text")});
    }
    model::PredictOptions o;
    Progress bar(g, "predict");
    o.progress = [&](std::int64_t d, std::int64_t t) { bar.update(d, t); };
    const auto t1 = std::chrono::steady_clock::now();
    const auto p = model::predict(ctx, m, data, feats, o);
    bar.finish();
    const double pred_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

    const std::filesystem::path dir(*out);
    io::write_npy(dir / "preds.npy", p.preds);
    pipeline::write_segments_json(dir / "segments.json", pipeline::segments_info(p), data);
    std::vector<std::pair<std::string, Tensor>> arrays;
    for (const auto& f : feats) arrays.emplace_back(f.modality, f.data);
    io::write_npz(dir / "features.npz", arrays);
    std::cout << "demo: " << (random ? "RANDOM-WEIGHT model (published architecture)" : "real TRIBE v2 weights") << ", "
              << m.n_parameters() / 1000000 << "M parameters, built/loaded in " << load_s << " s\n"
              << "demo: synthetic stimulus of " << *seconds << " s -> " << p.segments.size() << " segment(s), "
              << p.rows.size() << " rows x " << m.n_outputs() << " vertices in " << pred_s << " s on " << ctx.threads()
              << " thread(s)\n"
              << "demo: wrote " << (dir / "preds.npy").string() << ", " << (dir / "segments.json").string() << ", "
              << (dir / "features.npz").string() << "\n";
    if (random)
      std::cout << "\nTo use the real model: download config.yaml and best.ckpt from HuggingFace facebook/tribev2\n"
                   "(https://huggingface.co/facebook/tribev2) into models/tribev2/, or pass --model DIR\n"
                   "(or set TRIBEV2_MODEL). Optionally convert it once for faster loading:\n"
                   "  tribev2 convert --model models/tribev2/best.ckpt --out models/tribev2\n";
  });
}

}  // namespace tribev2::cli
