// `tribev2 run` with every extractor of this build on the tiny fixture models: a text (speech
// from espeak-ng -> Llama + w2v-BERT) and a generated video with sound (V-JEPA2 + w2v-BERT +
// Llama on a given transcript). Checks that each modality was computed, not read or missing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/model/random_model.hpp"
#include "tribev2/model_io/load.hpp"

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
  for (const char* name : {"text features", "audio features", "video features"})
    if (!out.count(name)) out[name] = "absent from run.json";
  return out;
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
}

TEST(RunAllExtractors, VideoInputWithTranscript) {
  if (std::system("ffmpeg -hide_banner -version > /dev/null 2>&1") != 0) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const fs::path model = make_model(tmp / "model");
  const fs::path clip = tmp / "clip.mp4";
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=16:duration=3 -f lavfi -i "
                          "sine=frequency=440:sample_rate=44100:duration=3 -shortest -pix_fmt yuv420p -c:v libx264 "
                          "-c:a aac '" + clip.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // whisperX JSON: two segments with word timings.
  write_bytes(tmp / "clip.json", R"({"segments": [
    {"text": " Hello there.", "words": [{"word": "Hello", "start": 0.2, "end": 0.6}, {"word": "there.", "start": 0.7, "end": 1.1}]},
    {"text": " A test.", "words": [{"word": "A", "start": 1.6, "end": 1.7}, {"word": "test.", "start": 1.8, "end": 2.3}]}]})");
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
}
