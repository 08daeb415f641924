// `tribev2 video-features`: V-JEPA2 features of a video on the 2 Hz grid, as upstream's
// HuggingFaceVideo extractor computes them (docs/video-features.md).
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common.hpp"
#include "feature_store_arg.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/features/video/extractor.hpp"
#include "tribev2/pipeline/stages.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/media/video.hpp"

namespace tribev2::cli {

namespace {

namespace fs = std::filesystem;
namespace fv = features::video;

struct VideoFeaturesArgs {
  std::string model;
  std::string video;
  std::string output = "video.npy";
  std::string cache_dir;
  bool no_cache = false;
  std::string resize = "float";
  std::string vfr = "timestamps";
  std::string chunks_npz;
};

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", x);
  return buf;
}

}  // namespace

void register_video_features(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<VideoFeaturesArgs>();
  auto* cmd = app.add_subcommand("video-features", "V-JEPA2 video features on the 2 Hz grid ([2, hidden, N] .npy)");
  cmd->add_option("--model", a->model, "V-JEPA2 folder (config.json, video_preprocessor_config.json, model.safetensors) or Hub repo id (facebook/vjepa2-vitg-fpc64-256)")
      ->required();
  cmd->add_option("--video", a->video, "Video file (anything FFmpeg decodes)")->required();
  cmd->add_option("--output", a->output, "Output .npy: float32 [2, hidden, round(2 * duration)]")->capture_default_str();
  cmd->add_option("--cache-dir", a->cache_dir, kFeatureCacheHelp);
  cmd->add_flag("--no-cache", a->no_cache, "Do not read or write the stage cache (--chunks-npz implies it)");
  cmd->add_option("--resize", a->resize,
                  "float: torchvision's float antialias path (upstream on AVX-512 CPUs; the goldens); uint8: PyTorch's "
                  "uint8 kernel (upstream on AVX2-only CPUs)")
      ->capture_default_str();
  cmd->add_option("--vfr", a->vfr,
                  "Variable-frame-rate files: timestamps (the frame on screen at each time) or ordinal (moviepy's "
                  "index rule on the frame sequence)")
      ->capture_default_str();
  cmd->add_option("--chunks-npz", a->chunks_npz,
                  "Also write every chunk's 20-layer array (what upstream caches) and its groups to this .npz");
  cmd->callback([a, &g] {
    fv::VideoFeatureOptions o;
    if (a->resize == "float") o.resize = fv::ResizeKernel::Float;
    else if (a->resize == "uint8") o.resize = fv::ResizeKernel::Uint8;
    else fail("--resize must be float or uint8, got '", a->resize, "'");
    if (a->vfr == "timestamps") o.vfr = media::VfrPolicy::Timestamps;
    else if (a->vfr == "ordinal") o.vfr = media::VfrPolicy::Ordinal;
    else fail("--vfr must be timestamps or ordinal, got '", a->vfr, "'");

    // This command implements bf16 itself (bf16 GEMMs for the encoder), so it builds its
    // context here rather than through GlobalOptions::make_context.
    Precision precision = Precision::F32;
    if (g.precision == "bf16") precision = Precision::BF16;
    else if (g.precision != "f32") fail("--precision must be f32 or bf16, got '", g.precision, "'");
    const Context ctx(g.threads > 0 ? g.threads : threads_from_env(0), precision);
    media::set_decoder_log(g.quiet ? media::DecoderLog::Quiet : media::DecoderLog::Errors);

    const auto info = media::probe_video(a->video);
    log(g, "video: " + a->video + ": " + std::to_string(info.width) + "x" + std::to_string(info.height) + ", " +
               num(info.fps) + " fps, " + std::to_string(info.n_frames) + " frames, " + num(info.duration) + " s" + (info.variable_frame_rate ? " (variable frame rate)" : "") +
               (info.rotation ? ", rotated " + std::to_string(info.rotation) + " degrees" : ""));
    const fs::path model_dir = resolve_model_arg(g, a->model, hub::video_model_files());
    const auto model = fv::VJEPA2Model::load(model_dir, {precision});
    const auto& c = model.config();
    log(g, "model: V-JEPA2 hidden " + std::to_string(c.hidden_size) + ", " + std::to_string(c.num_hidden_layers) +
               " layers, " + std::to_string(c.num_attention_heads) + " heads, crop " +
               std::to_string(model.processor().crop_height) + (precision == Precision::BF16 ? ", bf16" : ", f32") +
               ", " + std::to_string(ctx.threads()) + " threads");
    // Chunks go through the stage cache under `tribev2 run`'s keys (it keeps the group means;
    // --chunks-npz needs every layer, so it computes without the cache).
    CommandFeatureStore cache(ctx, a->cache_dir, a->no_cache || !a->chunks_npz.empty());
    std::string extractor = pipeline::available_stages().video_id;
    if (a->resize != "float" || a->vfr != "timestamps") extractor += " resize=" + a->resize + " vfr=" + a->vfr;
    std::size_t stored = 0;
    if (cache.store()) {
      const double fps = info.fps;
      o.store = [&, fps](const events::Chunk& ch, const std::function<Tensor()>& compute) {
        const events::MediaEvent ev{"Video", fs::absolute(a->video), ch.start, ch.offset, ch.duration, fps};
        auto got = cache.store()->media_chunk("video", model_dir, extractor, ev, compute);
        stored += got.computed ? 0 : 1;
        return features::StoredChunk{std::move(got.data), got.computed};
      };
    }
    Progress progress(g, "video-features");
    o.progress = [&progress](std::int64_t done, std::int64_t total) { progress.update(done, total); };
    double duration = 0.0;
    const auto chunks = fv::extract_chunks(ctx, model, a->video, o, 0.0, &duration);
    progress.finish();
    if (cache.store()) log(g, "video-features: " + std::to_string(stored) + " chunk(s) from the stage cache " + cache.root().string());
    const Tensor timeline = fv::segment_features(chunks, 0.0, duration, o.sampling.frequency);
    io::write_npy(a->output, timeline);
    if (!a->chunks_npz.empty()) {
      std::vector<std::pair<std::string, Tensor>> arrays;
      std::vector<double> spans;
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        arrays.emplace_back("chunk" + std::to_string(i) + "_layers", chunks[i].layers);
        arrays.emplace_back("chunk" + std::to_string(i) + "_grouped", chunks[i].grouped);
        spans.insert(spans.end(), {chunks[i].chunk.start, chunks[i].chunk.offset, chunks[i].chunk.duration});
      }
      arrays.emplace_back("chunks", Tensor::from<double>({static_cast<std::int64_t>(chunks.size()), 3}, spans));
      io::write_npz(a->chunks_npz, arrays);
    }
    log(g, "wrote " + a->output + ": float32 " + shape_str(timeline.shape()) + " (" + std::to_string(chunks.size()) +
               " chunk" + (chunks.size() == 1 ? "" : "s") + ", 2 Hz from t = 0)");
  });
}

}  // namespace tribev2::cli
