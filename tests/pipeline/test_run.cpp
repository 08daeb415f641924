// `tribev2 run` end to end on a generated spoken text with a tiny brain model, the second run
// from the cache, upstream's input checks, loud failures for stages this build lacks, and
// Ctrl-C (SIGINT to a child process) leaving nothing half-written.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "support/test_support.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/model/random_model.hpp"
#include "tribev2/model_io/load.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/run.hpp"
#include "tribev2/pipeline/segment_features.hpp"
#include "tribev2/pipeline/stages.hpp"
#include "tribev2/media/audio.hpp"

extern char** environ;

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// About 20 s of speech: two 15 s segments of the tiny model.
const char* kSpokenText =
    "What brings you to the land of the gatekeepers? I asked her in 1984, and she didn't answer. "
    "The Quick brown fox jumps over the lazy dog near Paris. Numbers like 31415 and 27 matter; so do names "
    "such as O'Neil and McDonald's! Then we walked along the river for a while, talking about nothing in "
    "particular, until the lights of the old town came on one by one. Finally, the end.";

Tensor random_features(std::int64_t L, std::int64_t D, std::int64_t N, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor t = Tensor::empty(DType::F32, {L, D, N});
  for (auto& v : t.f32()) v = nd(rng);
  return t;
}

struct Prepared {
  double t0 = 0.0, t_stop = 0.0;
  std::size_t n_words = 0;
  std::int64_t n = 0;  // 2 Hz steps from 0 to t_stop
};

// Builds the events of the text in-process (sharing the run's cache) to size the feature files.
Prepared prepare(const fs::path& text_file, const fs::path& cache_dir) {
  Cleanup cleanup;
  StageCache cache(cache_dir, cleanup);
  const auto b = build_events(check_stimulus(text_file.string(), "", ""), {}, cache, cleanup, {});
  Prepared p;
  p.t0 = b.events.start();
  p.t_stop = b.events.stop();
  p.n_words = b.events.words.size();
  p.n = static_cast<std::int64_t>(features::py_round(2.0 * p.t_stop));
  return p;
}

}  // namespace

TEST(Run, InputChecksAsUpstream) {
  TempDir tmp;
  write_bytes(tmp / "t.txt", "hello");
  write_bytes(tmp / "empty.txt", "  \n\t ");
  write_bytes(tmp / "bad.txt", std::string("caf\xe9"));
  write_bytes(tmp / "a.WAV", "x");
  EXPECT_THROW_MSG(check_stimulus("", "", ""), "exactly one of --text, --audio, --video must be given, got none");
  EXPECT_THROW_MSG(check_stimulus((tmp / "t.txt").string(), (tmp / "a.WAV").string(), ""), "got --text, --audio");
  EXPECT_THROW_MSG(check_stimulus("", (tmp / "t.txt").string(), ""),
                   "--audio must end with one of .flac, .mp3, .ogg, .wav, got '.txt'");
  EXPECT_THROW_MSG(check_stimulus("", "", (tmp / "clip.gif").string()), "--video must end with one of .avi");
  EXPECT_THROW_MSG(check_stimulus("", "", (tmp / "clip.mp4").string()), "--video does not exist");
  EXPECT_THROW_MSG(check_stimulus((tmp / "empty.txt").string(), "", ""), "text file is empty");
  EXPECT_THROW_MSG(check_stimulus((tmp / "bad.txt").string(), "", ""), "not valid UTF-8");
  EXPECT_EQ(check_stimulus("", (tmp / "a.WAV").string(), "").kind, StimulusKind::Audio);  // suffix case ignored
  EXPECT_EQ(check_stimulus((tmp / "t.txt").string(), "", "").text, "hello");
  const auto r = run_cli({"run", "--text", (tmp / "t.txt").string(), "--audio", (tmp / "a.WAV").string(), "--model", "m",
                          "--out", (tmp / "o").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("tribev2: error: exactly one of --text, --audio, --video"), std::string::npos) << r.output;
}

TEST(Run, TextToBrainMapsEndToEndThenFromTheCache) {
  TempDir tmp;
  const fs::path text = tmp / "story.txt";
  write_bytes(text, kSpokenText);
  const fs::path out = tmp / "out";
  const fs::path model_dir = fixture("brain_model/text64_pipeline");
  const Prepared p = prepare(text, out / "cache");
  ASSERT_GT(p.t_stop, 15.0) << "the text should span two 15 s segments";
  ASSERT_GT(p.n_words, 60u);
  // The tiny model's audio input is 2 x 12: no extractor gives that, so audio comes from a file.
  io::write_npy(tmp / "audio.npy", random_features(2, 12, p.n, 1));
  // The tiny Llama of the fixtures computes the text features. (The numeric comparison of
  // `run` with the stages one by one is in test_run_all_extractors.cpp, for each input kind.)
  const std::vector<std::string> args = {"run", "--text", text.string(), "--model", model_dir.string(), "--out",
                                         out.string(), "--audio-features", (tmp / "audio.npy").string(), "--llama",
                                         fixture("text_features/tiny-llama").string()};
  const auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"preds.npy", "segments.json", "events.tsv", "transcript.tsv", "speech.wav", "run.json"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  const Tensor preds = io::read_npy(out / "preds.npy");
  const auto expected_rows = static_cast<std::int64_t>(std::ceil(p.t_stop - p.t0));
  ASSERT_EQ(shape_str(preds.shape()), shape_str({expected_rows, 57}));
  const json seg = json::parse(read_bytes(out / "segments.json"));
  EXPECT_EQ(seg["n_rows"].get<std::int64_t>(), expected_rows);
  EXPECT_EQ(seg["segments"].size(), 2u);
  EXPECT_DOUBLE_EQ(seg["rows"][1]["start"].get<double>(), p.t0 + 1.0);
  const json run = json::parse(read_bytes(out / "run.json"));
  EXPECT_EQ(run["input"]["kind"], "text");
  EXPECT_EQ(run["modalities"]["video"].get<std::string>().substr(0, 7), "missing");
  EXPECT_FALSE(run["nothing_recomputed"].get<bool>());
  EXPECT_EQ(run["n_rows"].get<std::int64_t>(), expected_rows);
  std::map<std::string, std::string> status;
  for (const auto& s : run["stages"]) status[s["name"]] = s["status"];
  EXPECT_EQ(status["speech"], "cached");  // prepare() synthesised it into the same cache
  EXPECT_EQ(status["predict"], "computed");
  EXPECT_EQ(status["audio features"], "from-file");
  EXPECT_EQ(status["video features"], "skipped");
  // The tiny model has 57 outputs, not fsaverage5's 20,484: no GIFTI or figures (said in run.json).
  EXPECT_EQ(status["brain maps"], "skipped");
  const std::string tsv = read_bytes(out / "events.tsv");
  std::size_t word_rows = 0;
  for (std::size_t pos = tsv.find("\nWord\t"); pos != std::string::npos; pos = tsv.find("\nWord\t", pos + 1)) ++word_rows;
  EXPECT_EQ(word_rows, p.n_words);
  EXPECT_NE(tsv.find("\nCategoricalEvent\t"), std::string::npos);

  // Second run of the same command: nothing is recomputed, and it says so.
  const std::string preds_bytes = read_bytes(out / "preds.npy");
  const auto r2 = run_cli(args);
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_NE(r2.output.find("nothing was recomputed"), std::string::npos) << r2.output;
  const json run2 = json::parse(read_bytes(out / "run.json"));
  EXPECT_TRUE(run2["nothing_recomputed"].get<bool>());
  for (const auto& s : run2["stages"])
    EXPECT_NE(s["status"].get<std::string>(), "computed") << s.dump();
  EXPECT_EQ(read_bytes(out / "preds.npy"), preds_bytes);

  // --recompute: the speech is synthesised again in a fresh process, bit for bit the same.
  const std::string wav = read_bytes(out / "speech.wav");
  std::vector<std::string> again = args;
  again.push_back("--recompute");
  const auto r3 = run_cli(again);
  ASSERT_EQ(r3.code, 0) << r3.output;
  EXPECT_EQ(read_bytes(out / "speech.wav"), wav);
  EXPECT_EQ(read_bytes(out / "preds.npy"), preds_bytes);
}

TEST(Run, MissingStagesFailLoudly) {
  TempDir tmp;
  const fs::path text = tmp / "t.txt";
  write_bytes(text, "Hello there. How are you today?");
  const fs::path model_dir = fixture("brain_model/text64_pipeline");
  const Prepared p = prepare(text, tmp / "out" / "cache");
  io::write_npy(tmp / "audio.npy", random_features(2, 12, p.n, 3));
  io::write_npy(tmp / "text.npy", random_features(2, 64, p.n, 4));
  io::write_npy(tmp / "video.npy", random_features(2, 16, p.n, 5));
  const std::vector<std::string> base = {"run", "--text", text.string(), "--model", model_dir.string(), "--out",
                                         (tmp / "out").string()};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  {  // Every extractor is in the build: a missing model is named. Without a model option
     // upstream's id is resolved through an empty cache with HF_HUB_OFFLINE=1 (as ctest sets it).
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    ::setenv("HF_HUB_CACHE", (tmp / "empty_hf_cache").c_str(), 1);
    auto r = with({"--audio-features", (tmp / "audio.npy").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("text features: --llama meta-llama/Llama-3.2-3B: HF_HUB_OFFLINE=1 is set"), std::string::npos)
        << r.output;
    r = with({"--text-features", (tmp / "text.npy").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("audio features: --audio-model facebook/w2v-bert-2.0: HF_HUB_OFFLINE=1 is set"),
              std::string::npos)
        << r.output;
  }
  // A text input has no video: a video features file is refused.
  auto r = with({"--text-features", (tmp / "text.npy").string(), "--audio-features", (tmp / "audio.npy").string(),
                 "--video-features", (tmp / "video.npy").string()});
  EXPECT_NE(r.output.find("--video-features given, but the input has no video events"), std::string::npos) << r.output;
  // Wrong feature sizes and foreign timelines are refused.
  r = with({"--text-features", (tmp / "audio.npy").string(), "--audio-features", (tmp / "audio.npy").string()});
  EXPECT_NE(r.output.find("features for 'text' must be [2, 64, N] for this model, got [2, 12,"), std::string::npos)
      << r.output;
  io::write_npy(tmp / "long.npy", random_features(2, 12, p.n + 40, 6));
  r = with({"--text-features", (tmp / "text.npy").string(), "--audio-features", (tmp / "long.npy").string()});
  EXPECT_NE(r.output.find("these features belong to another input"), std::string::npos) << r.output;
  // --ignore-modality: audio treated as absent, and run.json says so.
  r = with({"--text-features", (tmp / "text.npy").string(), "--ignore-modality", "audio", "--no-brain-maps", "-q"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << "--quiet: " << r.output;
  const json run = json::parse(read_bytes(tmp / "out" / "run.json"));
  EXPECT_NE(run["modalities"]["audio"].get<std::string>().find("ignored"), std::string::npos);
  EXPECT_FALSE(run["notes"].empty());
}

TEST(Run, ModalitiesOptionChecks) {
  TempDir tmp;
  const fs::path text = tmp / "t.txt";
  write_bytes(text, "Hello there. How are you today?");
  const Prepared p = prepare(text, tmp / "out" / "cache");
  io::write_npy(tmp / "audio.npy", random_features(2, 12, p.n, 3));
  io::write_npy(tmp / "text.npy", random_features(2, 64, p.n, 4));
  const std::vector<std::string> base = {"run", "--text", text.string(), "--model",
                                         fixture("brain_model/text64_pipeline").string(), "--out",
                                         (tmp / "out").string(), "--no-brain-maps"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto r = with({"--modalities", "text,speech"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--modalities takes text, audio and video, got 'speech'"), std::string::npos) << r.output;
  r = with({"--modalities", "text", "--text-features", (tmp / "text.npy").string(), "--audio-features",
            (tmp / "audio.npy").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--audio-features given, but --modalities leaves 'audio' out"), std::string::npos) << r.output;
  r = with({"--modalities", "video", "-q"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("nothing to predict from"), std::string::npos) << r.output;
  // Text from a file and nothing else: no extractor runs; the estimate says so (not with -q).
  r = with({"--modalities", "text", "--text-features", (tmp / "text.npy").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("estimate: total feature extraction: 0.0 s (nothing to extract"), std::string::npos)
      << r.output;
  const json run = json::parse(read_bytes(tmp / "out" / "run.json"));
  EXPECT_EQ(run["modalities_used"], json::array({"text"}));
  EXPECT_NE(run["modalities"]["audio"].get<std::string>().find("--modalities"), std::string::npos);
  r = with({"--modalities", "text", "--text-features", (tmp / "text.npy").string(), "-q"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << "--quiet: " << r.output;
}

TEST(Run, AudioInputWithATranscript) {
  // Features from files; the numeric check with the extractors is in test_run_all_extractors.cpp.
  TempDir tmp;
  std::vector<std::int16_t> pcm(16000 * 3);
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(3000 * std::sin(0.05 * static_cast<double>(i)));
  media::AudioBuffer wav{16000, 1, {}};
  for (auto v : pcm) wav.samples.push_back(static_cast<float>(v) / 32768.0f);
  media::write_wav(tmp / "a.wav", wav);
  write_bytes(tmp / "t.json", R"({"segments": [{"text": " Hello there.", "words": [
    {"word": "Hello", "start": 0.2, "end": 0.6}, {"word": "there.", "start": 0.7, "end": 1.1}]}]})");
  io::write_npy(tmp / "audio.npy", random_features(2, 12, 6, 7));
  io::write_npy(tmp / "text.npy", random_features(2, 64, 6, 8));
  const auto r = run_cli({"run", "--audio", (tmp / "a.wav").string(), "--transcript", (tmp / "t.json").string(), "--model",
                          fixture("brain_model/text64_pipeline").string(), "--out", (tmp / "out").string(),
                          "--audio-features", (tmp / "audio.npy").string(), "--text-features", (tmp / "text.npy").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(io::read_npy(tmp / "out" / "preds.npy").dim(0), 3);
}

TEST(Run, CtrlCLeavesNothingHalfWritten) {
  TempDir tmp;
  fs::create_directories(tmp / "bin");
  // A whisperx that announces itself and then hangs, standing in for a long recognition.
  const fs::path marker = tmp / "started";
  write_bytes(tmp / "bin" / "whisperx", "#!/bin/sh\necho $$ > '" + marker.string() + ".tmp'\nmv '" + marker.string() +
                                            ".tmp' '" + marker.string() + "'\nexec sleep 30\n");
  ::chmod((tmp / "bin" / "whisperx").c_str(), 0755);
  write_bytes(tmp / "a.wav", "RIFF fake");
  const fs::path out = tmp / "out";
  std::vector<std::string> args = {TRIBEV2_CLI, "run", "--audio", (tmp / "a.wav").string(), "--model",
                                   fixture("brain_model/text64_pipeline").string(), "--out", out.string()};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("PATH=", 0) != 0) env_strings.emplace_back(*e);
  env_strings.push_back("PATH=" + (tmp / "bin").string() + ":/usr/bin:/bin");
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = spawn_with_stderr(args, tmp / "stderr.txt", envp.data());
  ASSERT_GT(pid, 0);
  bool started = false;
  for (int i = 0; i < 500 && !started; ++i) {
    started = fs::exists(marker);
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(started) << read_bytes(tmp / "stderr.txt");
  const pid_t tool = static_cast<pid_t>(std::stol(read_bytes(marker)));
  // While the recogniser runs, its work folder exists in the cache.
  ASSERT_FALSE(fs::is_empty(out / "cache" / "tmp"));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && done == 0; ++i) {
    done = ::waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ::kill(tool, SIGKILL);
    FAIL() << "tribev2 did not stop on SIGINT";
  }
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_NE(read_bytes(tmp / "stderr.txt").find("interrupted"), std::string::npos) << read_bytes(tmp / "stderr.txt");
  // The recogniser was stopped, its folder removed, no transcript entry, no output.
  EXPECT_NE(::kill(tool, 0), 0) << "the whisperx child is still running";
  EXPECT_TRUE(fs::is_empty(out / "cache" / "tmp"));
  EXPECT_FALSE(fs::exists(out / "cache" / "transcript"));
  for (const char* f : {"preds.npy", "segments.json", "events.tsv", "run.json"}) EXPECT_FALSE(fs::exists(out / f)) << f;
}

// A small model with fsaverage5's 20,484 outputs: `run` writes the GIFTI time series (no
// mesh needed) and, when the meshes are found, the default figures; a second run takes them
// from the cache.
TEST(Run, BrainMapsForFsaverage5Outputs) {
  TempDir tmp;
  const fs::path model_dir = tmp / "model";
  fs::create_directories(model_dir);
  auto cfg = model_io::parse_config_yaml(fixture("brain_model/text64_pipeline/config.yaml"));
  auto args = model_io::parse_build_args_json(fixture("brain_model/text64_pipeline/build_args.json"));
  args.n_outputs = 20484;
  const auto weights = model::random_weights(cfg.brain, args, 11);
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& n : weights.names()) ts.emplace_back(n, *weights.find(n));
  io::write_safetensors(model_dir / "model.safetensors", ts);
  fs::copy_file(fixture("brain_model/text64_pipeline/config.yaml"), model_dir / "config.yaml");
  write_bytes(model_dir / "build_args.json",
              R"({"feature_dims": {"text": [2, 64], "audio": [2, 12], "video": [2, 16]}, "n_outputs": 20484, "n_output_timesteps": 15})");
  const fs::path text = tmp / "t.txt";
  write_bytes(text, "The quick brown fox jumps over the lazy dog. Then it rests.");
  const fs::path out = tmp / "out";
  // Audio (the speech of the text) is left out: this test is about the brain-map outputs.
  std::vector<std::string> a = {"run", "--text", text.string(), "--model", model_dir.string(), "--out", out.string(),
                                "--ignore-modality", "audio", "--llama", fixture("text_features/tiny-llama").string()};
  const fs::path mesh = shared_data() / "fsaverage5";
  const bool have_mesh = fs::exists(mesh / "infl_left.gii.gz");
  if (have_mesh) a.insert(a.end(), {"--mesh-dir", mesh.string()});
  const auto r = run_cli(a);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::is_regular_file(out / "preds_hemi-L_space-fsaverage5_bold.func.gii"));
  EXPECT_TRUE(fs::is_regular_file(out / "preds_hemi-R_space-fsaverage5_bold.func.gii"));
  if (have_mesh) {
    EXPECT_TRUE(fs::is_regular_file(out / "mean.png"));
    EXPECT_TRUE(fs::is_regular_file(out / "timesteps.png"));
  } else {
    std::cout << "[note] fsaverage5 meshes not found under " << mesh << ": figures not checked\n";
    EXPECT_NE(r.output.find("fetch-mesh"), std::string::npos) << r.output;
  }
  const auto r2 = run_cli(a);
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_NE(r2.output.find("nothing was recomputed"), std::string::npos) << r2.output;
}
