// `tribev2 run` with every extractor of this build on the tiny fixture models: a text (speech
// from espeak-ng -> Llama + w2v-BERT), an audio file and a generated video with sound (V-JEPA2 +
// w2v-BERT + Llama on a given transcript). Checks that each modality was computed, and that the
// predictions equal the stages run one by one from files (text-features, audio-features,
// video-features, then predict); and that --precision is part of every cache key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/model/random_model.hpp"
#include "tribev2/model_io/load.hpp"
#include "tribev2/media/audio.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A brain model whose inputs fit the tiny extractors: text 2 x 64 (tiny Llama), audio 2 x 32
// (tiny w2v-BERT), video 2 x 32 (tiny V-JEPA2); 15 s segments like text64_pipeline.
fs::path make_model(const fs::path& dir) {
  fs::create_directories(dir);
  const auto cfg = model_io::parse_config_yaml(fixture("brain_model/text64_pipeline/config.yaml"));
  model::BuildArgs args;
  args.feature_dims = {{"text", std::pair<std::int64_t, std::int64_t>{2, 64}},
                       {"audio", std::pair<std::int64_t, std::int64_t>{2, 32}},
                       {"video", std::pair<std::int64_t, std::int64_t>{2, 32}}};
  args.n_outputs = 57;
  args.n_output_timesteps = 15;
  const auto w = model::random_weights(cfg.brain, args, 5);
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& n : w.names()) ts.emplace_back(n, *w.find(n));
  io::write_safetensors(dir / "model.safetensors", ts);
  fs::copy_file(fixture("brain_model/text64_pipeline/config.yaml"), dir / "config.yaml");
  write_bytes(dir / "build_args.json",
              R"({"feature_dims": {"text": [2, 64], "audio": [2, 32], "video": [2, 32]}, "n_outputs": 57, "n_output_timesteps": 15})");
  return dir;
}

std::map<std::string, std::string> stage_status(const fs::path& run_json) {
  std::map<std::string, std::string> out;
  const json run = json::parse(read_bytes(run_json));  // (a temporary would dangle in the range-for)
  for (const auto& s : run["stages"]) out[s["name"]] = s["status"];
  for (const char* name : {"text features", "audio features", "video features", "predict", "speech"})
    if (!out.count(name)) out[name] = "absent from run.json";
  return out;
}

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -version > /dev/null 2>&1") == 0; }

// A 3 s clip with sound (testsrc2 frames, a 440 Hz tone) as TMP/clip.mp4 and its whisperX
// transcript (two segments with word timings) as TMP/clip.json; empty when ffmpeg failed.
fs::path make_clip(const TempDir& tmp) {
  const fs::path clip = tmp / "clip.mp4";
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=16:duration=3 -f lavfi -i "
                          "sine=frequency=440:sample_rate=44100:duration=3 -shortest -pix_fmt yuv420p -c:v libx264 "
                          "-c:a aac '" + clip.string() + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  write_bytes(tmp / "clip.json", R"({"segments": [
    {"text": " Hello there.", "words": [{"word": "Hello", "start": 0.2, "end": 0.6}, {"word": "there.", "start": 0.7, "end": 1.1}]},
    {"text": " A test.", "words": [{"word": "A", "start": 1.6, "end": 1.7}, {"word": "test.", "start": 1.8, "end": 2.3}]}]})");
  return clip;
}

std::string llama() { return fixture("text_features/tiny-llama").string(); }
std::string w2v() { return fixture("audio_features/tiny-w2v-bert").string(); }
std::string vjepa() { return fixture("video_features/tiny-vjepa2").string(); }

// The Word rows of a run's events.tsv as a words.json for `tribev2 text-features` (text,
// timing, sentence and offset; the context is rebuilt by text-features as by run).
void words_json_from_events(const fs::path& events_tsv, const fs::path& out) {
  std::istringstream in(read_bytes(events_tsv));
  std::string line;
  std::getline(in, line);
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::size_t p = 0;
    for (;;) {
      const auto t = l.find('\t', p);
      f.push_back(l.substr(p, t == std::string::npos ? std::string::npos : t - p));
      if (t == std::string::npos) return f;
      p = t + 1;
    }
  };
  const auto header = split(line);
  auto col = [&](const std::string& n) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == n) return i;
    ADD_FAILURE() << "events.tsv has no column " << n;
    return std::size_t{0};
  };
  json words = json::array();
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != header.size() || f[col("type")] != "Word") continue;
    ASSERT_EQ(f[col("sentence")].find('"'), std::string::npos) << "quoted fields are not expected here";
    words.push_back({{"text", f[col("text")]},
                     {"start", std::stod(f[col("start")])},
                     {"duration", std::stod(f[col("duration")])},
                     {"sentence", f[col("sentence")]},
                     {"sentence_char", std::stoll(f[col("sentence_char")])}});
  }
  write_bytes(out, json{{"words", words}}.dump());
}

// The run's prediction against the stages one by one from files. `audio` is what the
// audio-features stage reads (the speech.wav of a text, the audio file, the video), `video`
// the video file (empty: none). Returns max |run - stages|.
double run_vs_stages(const TempDir& tmp, const fs::path& model, const fs::path& out, const std::string& audio,
                     const std::string& video) {
  const json run = json::parse(read_bytes(out / "run.json"));
  const double t0 = run["events"]["t0"].get<double>(), t_stop = run["events"]["t_stop"].get<double>();
  // predict plans from t = 0; the run from the earliest event, which is the media at 0 here.
  EXPECT_EQ(t0, 0.0) << "this comparison needs a timeline from 0";
  const fs::path st = tmp / ("stages-" + out.filename().string());
  fs::create_directories(st);
  words_json_from_events(out / "events.tsv", st / "words.json");
  char dur[64];
  std::snprintf(dur, sizeof dur, "%.17g", t_stop);
  auto ok = [](const CliResult& r, const char* what) {
    EXPECT_EQ(r.code, 0) << what << ": " << r.output;
    return r.code == 0;
  };
  if (!ok(run_cli({"-q", "text-features", "--llama", llama(), "--words", (st / "words.json").string(), "--output",
                   (st / "text.npy").string(), "--start", "0", "--duration", dur, "--no-cache"}),
          "text-features"))
    return INFINITY;
  if (!ok(run_cli({"-q", "audio-features", "--model", w2v(), "--audio", audio, "--output", (st / "audio.npy").string(),
                   "--no-cache"}),
          "audio-features"))
    return INFINITY;
  std::vector<std::string> predict = {"-q", "predict", "--model", model.string(), "--features",
                                      "text=" + (st / "text.npy").string(), "--features",
                                      "audio=" + (st / "audio.npy").string(), "--output", (st / "p.npy").string(),
                                      "--duration", dur};
  if (!video.empty()) {
    if (!ok(run_cli({"-q", "video-features", "--model", vjepa(), "--video", video, "--output",
                     (st / "video.npy").string(), "--no-cache"}),
            "video-features"))
      return INFINITY;
    predict.insert(predict.end(), {"--features", "video=" + (st / "video.npy").string()});
  }
  if (!ok(run_cli(predict), "predict")) return INFINITY;
  const Tensor a = io::read_npy(out / "preds.npy"), b = io::read_npy(st / "p.npy");
  const double d = max_abs_diff(a, b);
  std::cout << "[measured] run vs stages from files (" << out.filename().string() << "): max |diff| " << d
            << " over " << shape_str(a.shape()) << ", max |pred| " << max_abs_diff(b, Tensor::zeros(DType::F32, b.shape()))
            << "\n";
  return d;
}

}  // namespace

TEST(RunAllExtractors, TextInput) {
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  write_bytes(tmp / "t.txt", "A short story about a cat. The cat sleeps all day long.");
  const auto r = run_cli({"-q", "run", "--text", (tmp / "t.txt").string(), "--model", model.string(), "--out", (tmp / "out").string(),
                          "--llama", fixture("text_features/tiny-llama").string(), "--audio-model",
                          fixture("audio_features/tiny-w2v-bert").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  auto st = stage_status(tmp / "out" / "run.json");
  EXPECT_EQ(st["text features"], "computed");
  EXPECT_EQ(st["audio features"], "computed");
  EXPECT_EQ(st["video features"], "skipped");  // a text has no video: missing, as upstream
  const Tensor p = io::read_npy(tmp / "out" / "preds.npy");
  EXPECT_EQ(p.dim(1), 57);
  EXPECT_GE(p.dim(0), 3);
  // Numerically the stages one by one: float32 throughout, the same kernels; only the order
  // of work differs (per segment vs whole timeline), so the tolerance is float32 rounding.
  EXPECT_LE(run_vs_stages(tmp, model, tmp / "out", (tmp / "out" / "speech.wav").string(), ""), 1e-5);
}

// `run --modalities text`: only the text extractor runs (the audio model is never resolved:
// the Hub is offline with an empty cache), audio is zeros after the projector exactly as
// `--ignore-modality audio`, and the estimate printed before extracting names only text.
TEST(RunAllExtractors, ModalitiesSubsetSkipsTheOtherExtractors) {
  TempDir tmp;
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ::setenv("HF_HUB_CACHE", (tmp / "empty_hf_cache").c_str(), 1);
  const fs::path model = make_model(tmp / "model");
  write_bytes(tmp / "t.txt", "A short story about a cat. The cat sleeps all day long.");
  auto run = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a = {"run", "--text", (tmp / "t.txt").string(), "--model", model.string(), "--out",
                                  (tmp / out).string(), "--cache-dir", (tmp / "cache").string(), "--llama", llama(),
                                  "--no-brain-maps"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto r = run("only_text", {"--modalities", "text"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("estimate: text features: "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("estimate: audio features"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("estimate: total feature extraction: "), std::string::npos) << r.output;
  auto st = stage_status(tmp / "only_text" / "run.json");
  EXPECT_EQ(st["text features"], "computed");
  EXPECT_EQ(st["audio features"], "skipped");
  const json rj = json::parse(read_bytes(tmp / "only_text" / "run.json"));
  EXPECT_EQ(rj["options"]["modalities"], json::array({"text"}));
  EXPECT_EQ(rj["modalities_used"], json::array({"text"}));
  EXPECT_EQ(rj["modalities"]["audio"].get<std::string>().rfind("skipped (--modalities)", 0), 0u) << rj["modalities"];
  EXPECT_FALSE(rj["notes"].empty()) << "the input has audio: leaving it out is a deviation, said in run.json";

  r = run("ignore_audio", {"--ignore-modality", "audio", "-q"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_bytes(tmp / "only_text" / "preds.npy"), read_bytes(tmp / "ignore_audio" / "preds.npy"));
  // The same command again: the text features come from the cache, nothing is left to estimate.
  r = run("only_text", {"--modalities", "text"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing to extract"), std::string::npos) << r.output;
  // Both modalities: audio then needs its model (offline, not in the cache: a clear error).
  r = run("both", {"--modalities", "text,audio", "-q"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("audio features: --audio-model facebook/w2v-bert-2.0"), std::string::npos) << r.output;
  r = run("both", {"--modalities", "text,audio", "-q", "--audio-model", w2v()});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(read_bytes(tmp / "both" / "preds.npy"), read_bytes(tmp / "only_text" / "preds.npy"));
}

TEST(RunAllExtractors, AudioInputWithTranscript) {
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  std::vector<std::int16_t> pcm(16000 * 4);
  for (std::size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<std::int16_t>(3000 * std::sin(0.05 * static_cast<double>(i)) + 1500 * std::sin(0.0031 * static_cast<double>(i)));
  media::AudioBuffer wav{16000, 1, {}};
  for (auto v : pcm) wav.samples.push_back(static_cast<float>(v) / 32768.0f);
  media::write_wav(tmp / "a.wav", wav);
  write_bytes(tmp / "t.json", R"({"segments": [{"text": " Hello there.", "words": [
    {"word": "Hello", "start": 0.2, "end": 0.6}, {"word": "there.", "start": 0.7, "end": 1.1}]},
    {"text": " A test.", "words": [{"word": "A", "start": 2.1, "end": 2.2}, {"word": "test.", "start": 2.3, "end": 2.9}]}]})");
  const auto r = run_cli({"-q", "run", "--audio", (tmp / "a.wav").string(), "--transcript", (tmp / "t.json").string(),
                          "--model", model.string(), "--out", (tmp / "out").string(), "--llama", llama(),
                          "--audio-model", w2v()});
  ASSERT_EQ(r.code, 0) << r.output;
  auto st = stage_status(tmp / "out" / "run.json");
  EXPECT_EQ(st["text features"], "computed");
  EXPECT_EQ(st["audio features"], "computed");
  EXPECT_EQ(io::read_npy(tmp / "out" / "preds.npy").dim(0), 4);
  EXPECT_LE(run_vs_stages(tmp, model, tmp / "out", (tmp / "a.wav").string(), ""), 1e-5);
}

// --precision is in every cache key: a bf16 run, then the same run in f32 on the same cache
// recomputes every stage that computes, and gives exactly the f32 results of a fresh cache.
TEST(RunAllExtractors, Bf16ThenF32RecomputesEveryComputingStage) {
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  write_bytes(tmp / "t.txt", "A short story about a cat. The cat sleeps all day long.");
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"run", "--text", (tmp / "t.txt").string(), "--model", model.string(), "--out",
                                    out.string(), "--llama", llama(), "--audio-model", w2v()};
  };
  std::vector<std::string> bf16 = {"--precision", "bf16"};
  const auto a0 = args(tmp / "out");
  bf16.insert(bf16.end(), a0.begin(), a0.end());
  const auto r1 = run_cli(bf16);
  ASSERT_EQ(r1.code, 0) << r1.output;
  EXPECT_EQ(json::parse(read_bytes(tmp / "out" / "run.json"))["precision"], "bf16");
  const Tensor p_bf16 = io::read_npy(tmp / "out" / "preds.npy");

  const auto r2 = run_cli(args(tmp / "out"));
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(r2.output.find("nothing was recomputed"), std::string::npos) << r2.output;
  const json run = json::parse(read_bytes(tmp / "out" / "run.json"));
  EXPECT_EQ(run["precision"], "f32");
  EXPECT_FALSE(run["nothing_recomputed"].get<bool>());
  auto st = stage_status(tmp / "out" / "run.json");
  EXPECT_EQ(st["text features"], "computed");
  EXPECT_EQ(st["audio features"], "computed");
  EXPECT_EQ(st["predict"], "computed");
  EXPECT_EQ(st["speech"], "cached") << "speech synthesis does not depend on the precision";
  const Tensor p_f32 = io::read_npy(tmp / "out" / "preds.npy");

  const auto r3 = run_cli(args(tmp / "fresh"));
  ASSERT_EQ(r3.code, 0) << r3.output;
  const Tensor p_fresh = io::read_npy(tmp / "fresh" / "preds.npy");
  EXPECT_EQ(max_abs_diff(p_f32, p_fresh), 0.0) << "the f32 run after a bf16 run gives the f32 results";
  const double d = max_abs_diff(p_bf16, p_fresh);
  EXPECT_GT(d, 0.0) << "bf16 changes the results (else this test proves nothing)";
  EXPECT_TRUE(std::isfinite(d));
  // Brain predictions end to end, bf16 against f32 (text and audio extractors and the brain
  // model all in bf16; fixture models of the real depths): per-TR Pearson r over the vertices,
  // and the largest difference relative to max |f32|. Bounds: a few bf16 roundings (2^-9)
  // compounded through three networks.
  ASSERT_EQ(p_bf16.shape(), p_fresh.shape());
  const auto a = p_fresh.f32(), b = p_bf16.f32();
  const std::int64_t rows = p_fresh.dim(0), n = p_fresh.numel() / rows;
  double r_min = 1.0, max_f32 = 0.0;
  for (std::int64_t t = 0; t < rows; ++t) {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (std::int64_t v = 0; v < n; ++v) {
      const double x = a[static_cast<std::size_t>(t * n + v)], y = b[static_cast<std::size_t>(t * n + v)];
      sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
      max_f32 = std::max(max_f32, std::fabs(x));
    }
    const double nn = static_cast<double>(n);
    r_min = std::min(r_min, (sab - sa * sb / nn) / std::sqrt((saa - sa * sa / nn) * (sbb - sb * sb / nn)));
  }
  std::cout << "[measured] bf16 vs f32 run, " << rows << " TRs x " << n << " vertices: per-TR Pearson r min " << r_min
            << ", max |diff| " << d << " = " << d / max_f32 << " x max |f32|\n";
  EXPECT_GE(r_min, 0.99);
  EXPECT_LE(d / max_f32, 5e-2);
}

TEST(RunAllExtractors, VideoInputWithTranscript) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  const fs::path clip = make_clip(tmp);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the test clip";
  const auto r = run_cli({"-q", "run", "--video", clip.string(), "--transcript", (tmp / "clip.json").string(), "--model",
                          model.string(), "--out", (tmp / "out").string(), "--llama", fixture("text_features/tiny-llama").string(),
                          "--audio-model", fixture("audio_features/tiny-w2v-bert").string(), "--video-model",
                          fixture("video_features/tiny-vjepa2").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  auto st = stage_status(tmp / "out" / "run.json");
  EXPECT_EQ(st["text features"], "computed");
  EXPECT_EQ(st["audio features"], "computed");
  EXPECT_EQ(st["video features"], "computed");
  EXPECT_EQ(io::read_npy(tmp / "out" / "preds.npy").dim(0), 3);  // 3 s
  // Second run: everything from the cache.
  const auto r2 = run_cli({"run", "--video", clip.string(), "--transcript", (tmp / "clip.json").string(), "--model",
                           model.string(), "--out", (tmp / "out").string(), "--llama", fixture("text_features/tiny-llama").string(),
                           "--audio-model", fixture("audio_features/tiny-w2v-bert").string(), "--video-model",
                           fixture("video_features/tiny-vjepa2").string()});
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_NE(r2.output.find("nothing was recomputed"), std::string::npos) << r2.output;
  EXPECT_LE(run_vs_stages(tmp, model, tmp / "out", clip.string(), clip.string()), 1e-5);
}

// Issue 16, one stage cache: the extractor commands and `run` share their entries. Features
// computed by video-features and audio-features (on the video: its moviepy WAV, the
// "audio-track" stage) are found by `run` with the same --cache-dir, and the text features
// `run` computed are found by text-features; the predictions equal those of a fresh cache.
TEST(RunAllExtractors, ExtractorCommandsAndRunShareTheStageCache) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  const fs::path clip = make_clip(tmp);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the test clip";
  const std::string cache = (tmp / "cache").string();
  auto r = run_cli({"video-features", "--model", vjepa(), "--video", clip.string(), "--output", (tmp / "v.npy").string(),
                    "--cache-dir", cache});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("0 chunk(s) from the stage cache"), std::string::npos) << r.output;
  r = run_cli({"audio-features", "--model", w2v(), "--audio", clip.string(), "--output", (tmp / "a.npy").string(),
               "--cache-dir", cache});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("0 chunk(s) from the stage cache"), std::string::npos) << r.output;
  // The same commands again: every chunk from the cache, the same files.
  r = run_cli({"audio-features", "--model", w2v(), "--audio", clip.string(), "--output", (tmp / "a2.npy").string(),
               "--cache-dir", cache});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("1 chunk(s) from the stage cache"), std::string::npos) << r.output;
  EXPECT_EQ(read_bytes(tmp / "a.npy"), read_bytes(tmp / "a2.npy"));

  auto run_args = [&](const fs::path& out, const std::string& cache_dir) {
    return std::vector<std::string>{"-q", "run", "--video", clip.string(), "--transcript", (tmp / "clip.json").string(),
                                    "--model", model.string(), "--out", out.string(), "--cache-dir", cache_dir,
                                    "--llama", llama(), "--audio-model", w2v(), "--video-model", vjepa(),
                                    "--no-brain-maps"};
  };
  r = run_cli(run_args(tmp / "out", cache));
  ASSERT_EQ(r.code, 0) << r.output;
  auto st = stage_status(tmp / "out" / "run.json");
  EXPECT_EQ(st["video features"], "cached");
  EXPECT_EQ(st["audio features"], "cached");
  EXPECT_EQ(st["text features"], "computed");
  // run -> text-features: the word list's features are found.
  words_json_from_events(tmp / "out" / "events.tsv", tmp / "words.json");
  const json run = json::parse(read_bytes(tmp / "out" / "run.json"));
  char dur[64];
  std::snprintf(dur, sizeof dur, "%.17g", run["events"]["t_stop"].get<double>());
  r = run_cli({"text-features", "--llama", llama(), "--words", (tmp / "words.json").string(), "--output",
               (tmp / "t.npy").string(), "--start", "0", "--duration", dur, "--cache-dir", cache});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("all from the stage cache"), std::string::npos) << r.output;
  // The shared entries give exactly what a fresh cache computes.
  r = run_cli(run_args(tmp / "fresh", (tmp / "fresh-cache").string()));
  ASSERT_EQ(r.code, 0) << r.output;
  st = stage_status(tmp / "fresh" / "run.json");
  EXPECT_EQ(st["video features"], "computed");
  EXPECT_EQ(st["audio features"], "computed");
  EXPECT_EQ(read_bytes(tmp / "out" / "preds.npy"), read_bytes(tmp / "fresh" / "preds.npy"));
  // Another option value is another entry: --resize uint8 computes its chunk.
  r = run_cli({"video-features", "--model", vjepa(), "--video", clip.string(), "--output", (tmp / "v8.npy").string(),
               "--cache-dir", cache, "--resize", "uint8"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("0 chunk(s) from the stage cache"), std::string::npos) << r.output;
}

// Issue 18: `run --shard K/N` computes only its shard's units (text stage, audio chunks) into a
// shared cache and writes no outputs; `--gather N` fails naming the missing units until every
// shard ran, then assembles outputs byte-identical to a single-process run.
TEST(RunAllExtractors, ShardsThenGatherAreByteIdenticalToOneRun) {
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  write_bytes(tmp / "t.txt", "A short story about a cat. The cat sleeps all day long.");
  auto args = [&](const fs::path& out, const fs::path& cache, std::vector<std::string> extra) {
    std::vector<std::string> a = {"-q", "run", "--text", (tmp / "t.txt").string(), "--model", model.string(), "--out",
                                  out.string(), "--cache-dir", cache.string(), "--llama", llama(), "--audio-model", w2v(),
                                  "--no-brain-maps", "--text-unit-words", "4"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto r = run_cli(args(tmp / "one", tmp / "c1", {}));
  ASSERT_EQ(r.code, 0) << r.output;
  const std::size_t n_words = json::parse(read_bytes(tmp / "one" / "run.json"))["events"]["words"].get<std::size_t>();
  ASSERT_GT(n_words, 8u) << "the text should make at least three units of 4 words";
  const std::size_t text_units = (n_words + 3) / 4, units = text_units + 1;

  // Before any shard: the gather step names each missing unit and its shard.
  r = run_cli(args(tmp / "sh", tmp / "c2", {"--gather", "3"}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(std::to_string(units) + " of " + std::to_string(units) + " unit(s) are not in the cache"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("text words 1-4/" + std::to_string(n_words)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("text words 5-8/" + std::to_string(n_words)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("audio chunk 1/1 [0.000, "), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(tmp / "sh" / ".shards" / "missing.json"));
  EXPECT_FALSE(fs::exists(tmp / "sh" / "preds.npy"));
  for (int k = 1; k <= 3; ++k) {
    r = run_cli(args(tmp / "sh", tmp / "c2", {"--shard", std::to_string(k) + "/3"}));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_FALSE(fs::exists(tmp / "sh" / "preds.npy")) << "a shard writes no outputs";
    const json rep = json::parse(read_bytes(tmp / "sh" / ".shards" / (std::to_string(k) + "-of-3.json")));
    EXPECT_EQ(rep["units"].size(), units);
  }
  r = run_cli(args(tmp / "sh", tmp / "c2", {"--gather", "3"}));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "sh" / ".shards" / "missing.json"));
  auto st = stage_status(tmp / "sh" / "run.json");
  EXPECT_EQ(st["text features"], "cached");
  EXPECT_EQ(st["audio features"], "cached");
  for (const char* f : {"preds.npy", "segments.json"})
    EXPECT_EQ(read_bytes(tmp / "one" / f), read_bytes(tmp / "sh" / f)) << f;

  r = run_cli(args(tmp / "x", tmp / "c2", {"--shard", "4/3"}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--shard 4/3: K must be in 1..N"), std::string::npos) << r.output;
}

// Issue 18: `tribev2 batch` without a scheduler: per-item folders as `run` writes them,
// batch.tsv with each status and error, a failing item does not stop the others, done items
// are skipped on the next call, failed ones only run again with --retry-failed; --shard splits
// the items.
TEST(RunAllExtractors, BatchIsResumableAndRecordsFailures) {
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  write_bytes(tmp / "a.txt", "The cat sat on the mat.");
  write_bytes(tmp / "b.txt", "A dog ran in the park.");
  write_bytes(tmp / "bad.wav", "not a wav file");
  write_bytes(tmp / "m.tsv", "id\ttext\taudio\na\ta.txt\t\nb\tb.txt\t\nbroken\t\tbad.wav\n");
  auto batch = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"-q", "batch", (tmp / "m.tsv").string(), "--out", (tmp / "out").string(), "--model",
                                  model.string(), "--llama", llama(), "--audio-model", w2v(), "--no-brain-maps"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto r = batch({"--shard", "1/2"});
  const std::string tsv1 = read_bytes(tmp / "out" / "batch.tsv");
  std::size_t done1 = 0;
  for (std::size_t p = tsv1.find("\tdone\t"); p != std::string::npos; p = tsv1.find("\tdone\t", p + 1)) ++done1;
  EXPECT_LT(done1, 2u) << "shard 1/2 ran only its items\n" << tsv1;

  r = batch({});
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("1 item(s) failed: broken"), std::string::npos) << r.output;
  const std::string tsv = read_bytes(tmp / "out" / "batch.tsv");
  EXPECT_NE(tsv.find("a\ttext\t"), std::string::npos) << tsv;
  EXPECT_NE(tsv.find("\tfailed\t"), std::string::npos) << tsv;
  const auto row = tsv.find("broken\taudio\t");
  ASSERT_NE(row, std::string::npos) << tsv;
  const std::string line = tsv.substr(row, tsv.find('\n', row) - row);
  EXPECT_GT(line.size() - line.rfind('\t'), 10u) << "the error is recorded: " << line;
  for (const char* id : {"a", "b"}) {
    EXPECT_TRUE(fs::exists(tmp / "out" / id / "preds.npy")) << id;
    EXPECT_TRUE(fs::exists(tmp / "out" / id / "run.json")) << id;
  }
  // The same item through `tribev2 run` on the batch's cache gives the same bytes.
  r = run_cli({"-q", "run", "--text", (tmp / "a.txt").string(), "--model", model.string(), "--out",
               (tmp / "ref").string(), "--cache-dir", (tmp / "out" / "cache").string(), "--llama", llama(),
               "--audio-model", w2v(), "--no-brain-maps"});
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"preds.npy", "segments.json", "events.tsv", "transcript.tsv", "speech.wav"})
    EXPECT_EQ(read_bytes(tmp / "ref" / f), read_bytes(tmp / "out" / "a" / f)) << f;

  r = run_cli({"batch", (tmp / "m.tsv").string(), "--out", (tmp / "out").string(), "--model", model.string(), "--llama",
               llama(), "--audio-model", w2v(), "--no-brain-maps"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("[a] done before: skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[broken] failed before"), std::string::npos) << r.output;

  r = batch({"--retry-failed"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("1 item(s) failed: broken"), std::string::npos) << r.output;

  // batch-status reads the files (no scheduler involved).
  r = run_cli({"batch-status", (tmp / "out").string()});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("items: 3, 2 done, 1 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing items: broken"), std::string::npos) << r.output;
}
