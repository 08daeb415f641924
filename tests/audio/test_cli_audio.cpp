// `tribev2 audio-features` end to end against a fixture grid, and its error messages.
#include <gtest/gtest.h>

#include "audio_test_util.hpp"
#include "tribev2/io/npy.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;

TEST(AudioCli, GridMatchesFixture) {
  TempDir tmp;
  const auto out = tmp / "audio.npy";
  const auto r = run_cli({"--threads", "2", "audio-features", "--model", af("tiny-w2v-bert").string(), "--audio",
                          af("audio/mono16k.wav").string(), "--output", out.string(), "--event-start", "2.25", "--start",
                          "3.1", "--duration", "4.3", "--cache-dir", (tmp / "cache").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  const Tensor got = io::read_npy(out);
  for (const double d : rel_diff_per_slice(got, npy("mono16k/grid_start3.1_dur4.3.npy"))) EXPECT_LE(d, 1e-3);
  // Whole file by default: [2, 32, round(2 * 12.25) = 24] = the 2 Hz features.
  const auto r2 = run_cli({"-q", "audio-features", "--model", af("tiny-w2v-bert").string(), "--audio",
                           af("audio/stereo44k.wav").string(), "--output", (tmp / "b.npy").string(), "--no-cache"});
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_TRUE(r2.output.empty()) << r2.output;
  const Tensor all = io::read_npy(tmp / "b.npy");
  for (const double d : rel_diff_per_slice(all, npy("stereo44k/features_2hz.npy"))) EXPECT_LE(d, 1e-3);
}

TEST(AudioCli, Errors) {
  TempDir tmp;
  const std::string model = af("tiny-w2v-bert").string(), wav = af("audio/mono16k.wav").string();
  const std::string out = (tmp / "o.npy").string();
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"audio-features", "--output", out, "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  auto r = run({"--model", (tmp / "none").string(), "--audio", wav});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("none: no such file or folder (and not a Hugging Face repo id"), std::string::npos) << r.output;
  r = run({"--model", model, "--audio", (tmp / "missing.wav").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("no such file"), std::string::npos) << r.output;
  r = run({"--model", model, "--audio", wav, "--constant-bins", "maybe"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--constant-bins"), std::string::npos) << r.output;
  r = run({"--model", model, "--audio", wav, "--layers", "0.5,x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--layers"), std::string::npos) << r.output;
  r = run({"--model", model});
  EXPECT_NE(r.code, 0);
}
