// Speech recognition through an external tool: the "missing tool" message, the command line,
// and a fake `whisperx` on PATH that writes a canned JSON (neither tool is installed here).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>

#include "support/test_support.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/asr.hpp"
#include "tribev2/pipeline/subprocess.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {

// Sets PATH for the lifetime of the object (tests run one at a time in this binary).
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) {
    if (const char* p = std::getenv("PATH")) old_ = p;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

void write_script(const fs::path& path, const std::string& body) {
  write_bytes(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

const char* kCanned = R"({"segments": [{"start": 0.1, "end": 1.0, "text": " Hello world.", "words": [
  {"word": "Hello", "start": 0.1, "end": 0.4, "score": 0.9}, {"word": "world.", "start": 0.5, "end": 1.0, "score": 0.8}]},
  {"start": 1.2, "end": 2.0, "text": " Again 42.", "words": [{"word": "Again", "start": 1.2, "end": 1.5}, {"word": "42."}]}],
  "language": "en"})";

// A fake whisperx: records its arguments and how often it ran, then writes the canned JSON
// as <output_dir>/<audio stem>.json, like the real tool.
std::string fake_whisperx(const fs::path& dir) {
  write_bytes(dir / "canned.json", kCanned);
  return "echo \"$@\" > '" + (dir / "args.txt").string() + "'\n"
         "echo run >> '" + (dir / "runs.txt").string() + "'\n"
         "audio=\"$1\"; out=.\n"
         "while [ $# -gt 0 ]; do if [ \"$1\" = --output_dir ]; then out=\"$2\"; fi; shift; done\n"
         "stem=$(basename \"$audio\"); stem=${stem%.*}\n"
         "cp '" + (dir / "canned.json").string() + "' \"$out/$stem.json\"\n";
}

}  // namespace

TEST(Asr, MissingToolSaysHowToInstallOrPassATranscript) {
  TempDir tmp;
  ScopedPath path(tmp.path().string());
  AsrOptions o;
  EXPECT_THROW_MSG(find_asr_tool(o), "neither whisperx nor whisper is installed");
  EXPECT_THROW_MSG(find_asr_tool(o), "pipx install whisperx");
  EXPECT_THROW_MSG(find_asr_tool(o), "--transcript FILE");
  o.tool = "whisper";
  EXPECT_THROW_MSG(find_asr_tool(o), "'whisper' is not installed");
  o.tool = "vosk";
  EXPECT_THROW_MSG(find_asr_tool(o), "--asr must be auto, whisperx or whisper");
  // Through the CLI: `run --audio` without --transcript stops before any work.
  write_bytes(tmp / "a.wav", "RIFF");
  const auto r = run_cli({"run", "--audio", (tmp / "a.wav").string(), "--model",
                          fixture("brain_model/text64_pipeline").string(), "--out", (tmp / "out").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("neither whisperx nor whisper is installed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "out" / "preds.npy"));
}

TEST(Asr, CommandLines) {
  const AsrTool wx{"whisperx", "/opt/bin/whisperx"};
  const AsrOptions o;
  const auto en = asr_command(wx, "/d/a.wav", "/tmp/o", parse_language("en"), o);
  EXPECT_EQ(shell_join(en),
            "/opt/bin/whisperx /d/a.wav --model large-v3 --language en --compute_type int8 --batch_size 16 "
            "--align_model WAV2VEC2_ASR_LARGE_LV60K_960H --output_dir /tmp/o --output_format json");
  // upstream passes the LV60K alignment model for English only.
  const auto fr = asr_command(wx, "/d/a.wav", "/tmp/o", parse_language("french"), o);
  EXPECT_EQ(shell_join(fr),
            "/opt/bin/whisperx /d/a.wav --model large-v3 --language fr --compute_type int8 --batch_size 16 "
            "--output_dir /tmp/o --output_format json");
  AsrOptions gpu = o;
  gpu.compute_type = "float16";
  gpu.device = "cuda";
  const auto w = asr_command({"whisper", "/usr/bin/whisper"}, "/d/my file.wav", "/tmp/o", parse_language("en"), gpu);
  EXPECT_EQ(shell_join(w),
            "/usr/bin/whisper '/d/my file.wav' --model large-v3 --language en --word_timestamps True --fp16 True "
            "--device cuda --output_dir /tmp/o --output_format json");
}

TEST(Asr, FakeWhisperxOnPathIsRunOnceThenCached) {
  TempDir tmp;
  fs::create_directories(tmp / "bin");
  write_script(tmp / "bin" / "whisperx", fake_whisperx(tmp.path()));
  ScopedPath path((tmp / "bin").string() + ":/usr/bin:/bin");
  write_bytes(tmp / "speech.wav", "RIFF....fake audio bytes");
  Cleanup cleanup;
  StageCache cache(tmp / "cache", cleanup);
  const AsrOptions o;
  const Language en = parse_language("en");
  const auto r = transcribe(tmp / "speech.wav", "sha-of-audio", en, o, cache, cleanup);
  EXPECT_FALSE(r.cached);
  ASSERT_EQ(r.transcript.words.size(), 3u);  // "42." has no start: dropped
  EXPECT_EQ(r.transcript.words[2].text, "Again");
  EXPECT_EQ(r.transcript.words[2].sequence_id, 1);
  const std::string args = read_bytes(tmp / "args.txt");
  EXPECT_NE(args.find("speech.wav --model large-v3 --language en --compute_type int8 --batch_size 16 --align_model "
                      "WAV2VEC2_ASR_LARGE_LV60K_960H --output_dir "),
            std::string::npos)
      << args;
  EXPECT_NE(args.find("--output_format json"), std::string::npos);
  // The cache entry keeps the tool's JSON and upstream's .tsv; the work folder is gone.
  EXPECT_TRUE(fs::is_regular_file(r.json));
  EXPECT_TRUE(fs::is_regular_file(r.json.parent_path() / "transcript.tsv"));
  EXPECT_TRUE(fs::is_empty(tmp / "cache" / "tmp"));
  // Second time: from the cache, the tool is not run again.
  const auto again = transcribe(tmp / "speech.wav", "sha-of-audio", en, o, cache, cleanup);
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.transcript.words.size(), 3u);
  EXPECT_EQ(read_bytes(tmp / "runs.txt"), "run\n");
  // Another audio content or other settings: a new transcription.
  AsrOptions f32 = o;
  f32.compute_type = "float32";
  EXPECT_FALSE(transcribe(tmp / "speech.wav", "sha-of-audio", en, f32, cache, cleanup).cached);
  EXPECT_FALSE(transcribe(tmp / "speech.wav", "other-sha", en, o, cache, cleanup).cached);
  EXPECT_EQ(read_bytes(tmp / "runs.txt"), "run\nrun\nrun\n");
  // The CLI: transcribe to upstream's .tsv, and print the command line.
  const auto cli = run_cli({"transcribe", "--audio", (tmp / "speech.wav").string(), "--out", (tmp / "t.tsv").string()});
  ASSERT_EQ(cli.code, 0) << cli.output;
  EXPECT_EQ(read_bytes(tmp / "t.tsv").substr(0, 40), "text\tstart\tduration\tsequence_id\tsentence");
  const auto printed = run_cli({"transcribe", "--audio", "x.wav", "--out", "t.json", "--print-command", "--language", "es"});
  ASSERT_EQ(printed.code, 0) << printed.output;
  EXPECT_NE(printed.output.find("whisperx x.wav --model large-v3 --language es --compute_type int8"), std::string::npos)
      << printed.output;
}

TEST(Asr, ToolFailuresAreReported) {
  TempDir tmp;
  fs::create_directories(tmp / "bin");
  ScopedPath path((tmp / "bin").string() + ":/usr/bin:/bin");
  write_bytes(tmp / "a.wav", "x");
  Cleanup cleanup;
  StageCache cache(tmp / "cache", cleanup);
  write_script(tmp / "bin" / "whisperx", "echo 'RuntimeError: float16 compute type not supported on CPU' >&2\nexit 3\n");
  EXPECT_THROW_MSG(transcribe(tmp / "a.wav", "s1", parse_language("en"), {}, cache, cleanup),
                   "whisperx failed with exit code 3");
  EXPECT_THROW_MSG(transcribe(tmp / "a.wav", "s1", parse_language("en"), {}, cache, cleanup),
                   "float16 compute type not supported");
  write_script(tmp / "bin" / "whisperx", "exit 0\n");
  EXPECT_THROW_MSG(transcribe(tmp / "a.wav", "s2", parse_language("en"), {}, cache, cleanup), "did not write a.json");
  write_script(tmp / "bin" / "whisperx",
               "while [ $# -gt 0 ]; do if [ \"$1\" = --output_dir ]; then out=\"$2\"; fi; shift; done\n"
               "echo '{\"segments\": [{\"text\": \"hi\"}]}' > \"$out/a.json\"\n");
  EXPECT_THROW_MSG(transcribe(tmp / "a.wav", "s3", parse_language("en"), {}, cache, cleanup), "no word timings");
  // Nothing half-done is left in the cache.
  EXPECT_FALSE(fs::exists(tmp / "cache" / "transcript"));
  EXPECT_TRUE(fs::is_empty(tmp / "cache" / "tmp"));
  // whisper (openai) is used when whisperx is absent.
  fs::remove(tmp / "bin" / "whisperx");
  write_script(tmp / "bin" / "whisper", "exit 0\n");
  EXPECT_EQ(find_asr_tool({}).kind, "whisper");
}
