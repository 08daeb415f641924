// `tribev2 video-features` and the extractor on odd inputs (generated with the ffmpeg CLI).
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/core/context.hpp"
#include "tribev2/features/video/extractor.hpp"
#include "tribev2/io/npy.hpp"
#include "video_test_util.hpp"

namespace tribev2 {
namespace {

namespace fs = std::filesystem;
namespace fv = features::video;

fs::path vf(const std::string& rel) { return test::fixture("video_features/" + rel); }

void expect_finite_and_nonzero(const Tensor& t, const std::string& what) {
  double mx = 0.0;
  for (float x : t.f32()) {
    ASSERT_TRUE(std::isfinite(x)) << what;
    mx = std::max(mx, std::abs(static_cast<double>(x)));
  }
  EXPECT_GT(mx, 0.0) << what;
}

TEST(VideoCli, WritesTheTimeline) {
  test::TempDir dir;
  const auto out = dir / "video.npy";
  const auto r = test::run_cli({"video-features", "--model", vf("tiny-vjepa2").string(), "--video",
                                vf("video/clip.mkv").string(), "--output", out.string(), "--no-cache", "--threads", "2",
                                "--chunks-npz", (dir / "chunks.npz").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  const Tensor got = io::read_npy(out), want = io::read_npy(vf("features.npy"));
  EXPECT_LE(test::max_rel_diff(got, want), 1e-4);
  const auto arrays = io::read_npz(dir / "chunks.npz");
  ASSERT_EQ(arrays.size(), 3u);
  EXPECT_EQ(arrays[0].first, "chunk0_layers");
  EXPECT_LE(test::max_rel_diff(arrays[0].second, io::read_npy(vf("features_20layers.npy"))), 1e-4);
}

TEST(VideoCli, Bf16AndCache) {
  test::TempDir dir;
  const auto out = dir / "video.npy";
  for (int run = 0; run < 2; ++run) {
    const auto r = test::run_cli({"--precision", "bf16", "-q", "video-features", "--model", vf("tiny-vjepa2").string(),
                                  "--video", vf("video/clip.mkv").string(), "--output", out.string(), "--cache-dir",
                                  (dir / "cache").string()});
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output, "");  // quiet
  }
  const Tensor got = io::read_npy(out), want = io::read_npy(vf("features.npy"));
  EXPECT_LE(test::max_rel_diff(got, want), 0.05);  // bf16: a sanity bound, not parity
  EXPECT_FALSE(fs::is_empty(dir / "cache"));
}

TEST(VideoCli, Errors) {
  test::TempDir dir;
  auto r = test::run_cli({"video-features", "--model", vf("tiny-vjepa2").string(), "--output", (dir / "x.npy").string()});
  EXPECT_NE(r.code, 0);
  test::write_bytes(dir / "bad.mp4", "not a video");
  r = test::run_cli({"video-features", "--model", vf("tiny-vjepa2").string(), "--video", (dir / "bad.mp4").string(),
                     "--output", (dir / "x.npy").string(), "--no-cache"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("tribev2: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.mp4"), std::string::npos) << r.output;
  r = test::run_cli({"video-features", "--model", (dir / "nomodel").string(), "--video", vf("video/clip.mkv").string(),
                     "--output", (dir / "x.npy").string(), "--no-cache"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("nomodel"), std::string::npos) << r.output;
  r = test::run_cli({"video-features", "--model", vf("tiny-vjepa2").string(), "--video", vf("video/clip.mkv").string(),
                     "--output", (dir / "x.npy").string(), "--resize", "cubic"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--resize"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "x.npy"));
}

class VideoOddInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new fv::VJEPA2Model(fv::VJEPA2Model::load(vf("tiny-vjepa2"))); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  Tensor timeline(const fs::path& video, double* duration = nullptr, fv::VideoFeatureOptions o = {}) {
    return fv::extract_timeline(ctx, *model_, video, o, duration);
  }
  test::TempDir dir;
  Context ctx{2};
  static fv::VJEPA2Model* model_;
};
fv::VJEPA2Model* VideoOddInputs::model_ = nullptr;

TEST_F(VideoOddInputs, ClipShorterThanFourSeconds) {
  TRIBEV2_REQUIRE_FFMPEG();
  const auto f = dir / "short.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=48x40:rate=12:duration=1.3 -pix_fmt yuv420p -c:v libx264 '" +
                      f.string() + "'");
  double duration = 0.0;
  const Tensor t = timeline(f, &duration);
  EXPECT_NEAR(duration, 1.3, 0.05);  // 16 frames at 12 fps: 1.33 s
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(1), 32);
  EXPECT_EQ(t.dim(2), static_cast<std::int64_t>(std::nearbyint(2 * duration)));
  expect_finite_and_nonzero(t, "short clip");
}

TEST_F(VideoOddInputs, VeryShortClipHasAtLeastOneGridBin) {
  TRIBEV2_REQUIRE_FFMPEG();
  const auto f = dir / "tiny.mkv";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=40x40:rate=10:duration=0.2 -c:v ffv1 '" + f.string() + "'");
  double duration = 0.0;
  const Tensor t = timeline(f, &duration);
  EXPECT_EQ(t.dim(2), 1);  // max(1, round(0.4)) grid bin, no feature bin: zeros
  for (float x : t.f32()) EXPECT_EQ(x, 0.0f);
}

TEST_F(VideoOddInputs, VariableFrameRatePortraitWithAudio) {
  TRIBEV2_REQUIRE_FFMPEG();
  const auto vfr = dir / "vfr.mkv";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=40x64:rate=10:duration=2 -vf \"setpts='if(lt(N,10),N,10+(N-10)*2)'\" "
                      "-fps_mode vfr -c:v ffv1 '" + vfr.string() + "'");
  const auto info = media::probe_video(vfr);
  EXPECT_TRUE(info.variable_frame_rate);
  EXPECT_EQ(info.width, 40);
  EXPECT_EQ(info.height, 64);
  fv::VideoFeatureOptions o;
  const Tensor ts = timeline(vfr, nullptr, o);
  expect_finite_and_nonzero(ts, "vfr timestamps");
  o.vfr = media::VfrPolicy::Ordinal;
  const Tensor ord = timeline(vfr, nullptr, o);
  expect_finite_and_nonzero(ord, "vfr ordinal");
  EXPECT_EQ(ts.shape(), ord.shape());
  EXPECT_GT(test::max_abs_diff(ts, ord), 0.0);  // the two policies pick different frames here

  const auto with_audio = dir / "audio.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=64x40:rate=10:duration=1 -f lavfi -i sine=duration=1 -pix_fmt yuv420p "
                      "-c:v libx264 -c:a aac -shortest '" + with_audio.string() + "'");
  EXPECT_TRUE(media::probe_video(with_audio).has_audio);
  expect_finite_and_nonzero(timeline(with_audio), "with audio");
}

TEST_F(VideoOddInputs, RotatedVideoUsesDisplayOrientation) {
  TRIBEV2_REQUIRE_FFMPEG();
  // The same pictures stored upright (portrait) and stored landscape with a 90-degree display
  // matrix decode to the same frames, hence the same features.
  const std::string lossless = " -c:v libx264 -qp 0 -pix_fmt yuv444p ";
  const auto upright = dir / "upright.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=40x64:rate=10:duration=1" + lossless + "'" + upright.string() + "'");
  const auto stored = dir / "stored.mp4";
  test::video::ffmpeg("-i '" + upright.string() + "' -vf transpose=clock" + lossless + "'" + stored.string() + "'");
  const auto rotated = dir / "rotated.mp4";
  test::video::ffmpeg("-i '" + stored.string() + "' -c copy -metadata:s:v:0 rotate=90 '" + rotated.string() + "'");
  const auto info = media::probe_video(rotated);
  ASSERT_EQ(info.width, 40);
  ASSERT_EQ(info.height, 64);
  EXPECT_EQ(test::max_abs_diff(timeline(rotated), timeline(upright)), 0.0);
}

TEST_F(VideoOddInputs, CorruptFileFailsWithItsName) {
  test::write_bytes(dir / "corrupt.mkv", std::string(5000, '\x1a'));
  EXPECT_THROW_MSG(timeline(dir / "corrupt.mkv"), "corrupt.mkv");
}

}  // namespace
}  // namespace tribev2
