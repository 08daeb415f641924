// tribev2 audio-features: Wav2Vec-BERT 2.0 features of an audio (or video) file on the 2 Hz
// grid, as upstream's Wav2VecBert extractor computes them (docs/audio-features.md).
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "common.hpp"
#include "feature_store_arg.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/features/audio/extractor.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/media/audio.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::cli {

namespace {

struct AudioFeaturesArgs {
  std::string model;
  std::string audio;
  std::string output;
  double start = std::numeric_limits<double>::quiet_NaN();
  double duration = -1.0;
  double event_start = 0.0;
  std::string cache_dir;
  bool no_cache = false;
  std::string layers = "0.5,0.75,1.0";
  std::string constant_bins = "reference";
  std::string video_audio = "moviepy";
};

std::vector<double> parse_fractions(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    TRIBEV2_CHECK(end && *end == '\0' && !item.empty(), "--layers: '", item, "' is not a number (expected e.g. 0.5,0.75,1.0)");
    out.push_back(v);
  }
  TRIBEV2_CHECK(out.size() >= 2, "--layers: give at least two fractions, got '", text, "'");
  return out;
}

}  // namespace

void register_audio_features(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<AudioFeaturesArgs>();
  auto* cmd = app.add_subcommand("audio-features", "Wav2Vec-BERT 2.0 audio features on the 2 Hz grid ([2, hidden, N])");
  cmd->add_option("--model", a->model, "w2v-BERT 2.0 folder (config.json, preprocessor_config.json, model.safetensors) or Hub repo id (facebook/w2v-bert-2.0)")
      ->required();
  cmd->add_option("--audio", a->audio, "Audio file (wav, mp3, flac, ogg, ...) or video file (mp4, mkv, mov, webm, avi)")
      ->required();
  cmd->add_option("--output", a->output, "Output .npy: float32 [groups, hidden, max(1, round(2 * duration))]")->required();
  cmd->add_option("--start", a->start, "Window start on the timeline, seconds (default: --event-start)");
  cmd->add_option("--duration", a->duration, "Window length, seconds (default: the audio's duration)");
  cmd->add_option("--event-start", a->event_start, "Timeline time of the audio's first sample (default 0)");
  cmd->add_option("--cache-dir", a->cache_dir, kFeatureCacheHelp);
  cmd->add_flag("--no-cache", a->no_cache, "Do not read or write the stage cache");
  cmd->add_option("--layers", a->layers, "Layer fractions for the group means (default 0.5,0.75,1.0)");
  cmd->add_option("--constant-bins", a->constant_bins,
                  "CMVN of a mel bin constant over a chunk (pure digital silence): reference (as upstream) or zero");
  cmd->add_option("--video-audio", a->video_audio,
                  "Audio of a video: moviepy (upstream's 44.1 kHz 16-bit stereo WAV, default) or direct (the stream)");
  cmd->callback([a, &g] {
    namespace fa = features::audio;
    fa::AudioFeatureOptions o;
    o.layers = parse_fractions(a->layers);
    if (a->constant_bins == "reference")
      o.constant_bins = fa::ConstantBins::Reference;
    else if (a->constant_bins == "zero")
      o.constant_bins = fa::ConstantBins::Zero;
    else
      fail("--constant-bins must be 'reference' or 'zero', got '", a->constant_bins, "'");
    TRIBEV2_CHECK(a->video_audio == "moviepy" || a->video_audio == "direct",
                  "--video-audio must be 'moviepy' or 'direct', got '", a->video_audio, "'");
    TRIBEV2_CHECK(std::isfinite(a->event_start), "--event-start must be a finite number");
    TRIBEV2_CHECK(std::isnan(a->start) || std::isfinite(a->start), "--start must be a finite number");
    TRIBEV2_CHECK(a->duration < 0.0 || (std::isfinite(a->duration) && a->duration >= 0.0),
                  "--duration must be a finite number >= 0");

    const Context ctx = g.make_context();
    const std::filesystem::path model_dir = resolve_model_arg(g, a->model, hub::audio_model_files());
    const auto model = fa::W2vBertModel::load(model_dir);
    const auto info = media::probe_audio(a->audio);
    fa::TimelineWindow w;
    w.event_start = a->event_start;
    w.start = a->start;
    w.duration = a->duration;
    Progress bar(g, "audio features");
    o.progress = [&](std::int64_t d, std::int64_t t) { bar.update(d, t); };

    // Chunks go through the stage cache under `tribev2 run`'s keys (the file's content, the
    // chunk, the model folder, the extractor and, when they differ from run's, the options).
    CommandFeatureStore cache(ctx, a->cache_dir, a->no_cache);
    std::string extractor = pipeline::available_stages().audio_id;
    if (a->layers != "0.5,0.75,1.0" || a->constant_bins != "reference")
      extractor += " layers=" + a->layers + " constant-bins=" + a->constant_bins;
    std::size_t stored = 0;
    const auto attach_store = [&](const std::filesystem::path& file, int rate) {
      if (!cache.store()) return;
      o.store = [&, file, rate](const events::Chunk& c, const std::function<Tensor()>& compute) {
        const events::MediaEvent ev{"Audio", std::filesystem::absolute(file), c.start, c.offset, c.duration,
                                    static_cast<double>(rate)};
        auto got = cache.store()->media_chunk("audio", model_dir, extractor, ev, compute);
        stored += got.computed ? 0 : 1;
        return features::StoredChunk{std::move(got.data), got.computed};
      };
    };
    Tensor out;
    if (info.has_video && a->video_audio == "moviepy") {
      log(g, a->audio + ": video file; using its audio as upstream's moviepy WAV (44.1 kHz, 16-bit, stereo)");
      if (cache.cache()) {
        // The WAV `run` extracts from a video (the "audio-track" stage), so the keys agree.
        const auto track = pipeline::video_audio_track(a->audio, *cache.cache());
        attach_store(track.wav, track.sample_rate);
        out = fa::extract_timeline(ctx, model, track.wav, w, o);
      } else {
        const auto buf = media::decode_audio_like_moviepy(a->audio);
        out = fa::extract_timeline(ctx, model, buf, w, o, "moviepy:" + a->audio);
      }
    } else {
      attach_store(a->audio, info.sample_rate);
      out = fa::extract_timeline(ctx, model, std::filesystem::path(a->audio), w, o);
    }
    if (cache.store()) log(g, "audio-features: " + std::to_string(stored) + " chunk(s) from the stage cache " + cache.root().string());
    bar.finish();
    io::write_npy(a->output, out);
    log(g, "wrote " + a->output + " " + shape_str(out.shape()));
  });
}

}  // namespace tribev2::cli
