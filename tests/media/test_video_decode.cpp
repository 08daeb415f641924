// The video half of the media layer: decoding against the fixture clip (exact), against the
// ffmpeg CLI that upstream's moviepy pipes from, moviepy's timing rules, and odd inputs.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "support/test_support.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/media/video.hpp"
#include "tribev2/media/video_timing.hpp"
#include "video_test_util.hpp"

namespace tribev2 {
namespace {

namespace fs = std::filesystem;
using media::VideoReader;
using media::VideoReaderOptions;

fs::path clip() { return test::fixture("video_features/video/clip.mkv"); }

// Largest |a - b| between frame `i` of `all` [n, H, W, 3] and `frame` [H, W, 3].
int frame_diff(const Tensor& all, std::int64_t i, const Tensor& frame) {
  EXPECT_EQ(frame.ndim(), 3);
  EXPECT_EQ(all.dim(1), frame.dim(0));
  EXPECT_EQ(all.dim(2), frame.dim(1));
  if (all.dim(1) != frame.dim(0) || all.dim(2) != frame.dim(1)) return 256;
  const std::int64_t n = frame.numel();
  const auto* a = all.data<std::uint8_t>() + i * n;
  const auto* b = frame.data<std::uint8_t>();
  int m = 0;
  for (std::int64_t k = 0; k < n; ++k) m = std::max(m, std::abs(int(a[k]) - int(b[k])));
  return m;
}

TEST(VideoDecode, FixtureClipFacts) {
  const auto info = media::probe_video(clip());
  EXPECT_EQ(info.fps, 24.0);
  EXPECT_EQ(info.n_frames, 102);
  EXPECT_EQ(info.duration, 4.25);
  EXPECT_EQ(info.width, 55);
  EXPECT_EQ(info.height, 48);
  EXPECT_FALSE(info.has_audio);
  EXPECT_FALSE(info.variable_frame_rate);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_EQ(info.codec, "ffv1");
  EXPECT_NE(info.container.find("matroska"), std::string::npos);
}

TEST(VideoDecode, FixtureClipDecodesExactly) {
  const Tensor expected = io::read_npy(test::fixture("video_features/video/frames.npy"));
  ASSERT_EQ(expected.ndim(), 4);
  VideoReader reader(clip(), 4);
  ASSERT_EQ(reader.info().n_frames, expected.dim(0));
  for (std::int64_t i = 0; i < expected.dim(0); ++i) ASSERT_EQ(frame_diff(expected, i, reader.frame(i)), 0) << i;
  EXPECT_EQ(reader.frames_decoded(), expected.dim(0));  // each frame decoded once
  EXPECT_EQ(reader.seeks(), 0);
}

TEST(VideoDecode, RandomAccessAndBackwardsSeeks) {
  const Tensor expected = io::read_npy(test::fixture("video_features/video/frames.npy"));
  VideoReader reader(clip(), 3);
  std::mt19937 rng(7);
  for (int k = 0; k < 60; ++k) {
    const std::int64_t i = std::uniform_int_distribution<std::int64_t>(0, expected.dim(0) - 1)(rng);
    ASSERT_EQ(frame_diff(expected, i, reader.frame(i)), 0) << i;
  }
  EXPECT_GT(reader.seeks(), 0);
  EXPECT_THROW(reader.frame(-1), Error);
  EXPECT_THROW(reader.frame(expected.dim(0)), Error);
}

TEST(VideoDecode, InMemoryDecoding) {
  const auto bytes = io::read_file(clip());
  const Tensor expected = io::read_npy(test::fixture("video_features/video/frames.npy"));
  VideoReader reader(bytes, "clip-in-memory", VideoReaderOptions{});
  EXPECT_EQ(reader.info().n_frames, 102);
  EXPECT_EQ(frame_diff(expected, 57, reader.frame(57)), 0);
}

TEST(VideoTiming, MoviepyFrameIndexRule) {
  VideoReader reader(clip(), 2);
  for (double t : {0.0, 0.04166, 1.0 / 24, 0.5, 2.0 - 1e-7, 4.2, 4.25, 10.0}) {
    const std::int64_t want = std::min<std::int64_t>(static_cast<std::int64_t>(24.0 * t + 1e-5), 101);
    EXPECT_EQ(reader.frame_index_at(t), want) << t;
  }
  EXPECT_EQ(reader.frame_index_at(-1.0), 0);
  EXPECT_EQ(reader.frame_index_at(NAN), 0);
  EXPECT_EQ(reader.frame_index_at(INFINITY), 101);
  EXPECT_DOUBLE_EQ(reader.frame_time(24), 1.0);
}

TEST(VideoTiming, MoviepyFpsText) {
  EXPECT_EQ(media::ffmpeg_fps_text(25.0), "25");
  EXPECT_EQ(media::ffmpeg_fps_text(30000.0 / 1001), "29.97");
  EXPECT_EQ(media::ffmpeg_fps_text(12.5), "12.50");
  EXPECT_EQ(media::ffmpeg_fps_text(90000.0), "90k");
  EXPECT_EQ(media::ffmpeg_fps_text(0.001), "0.0010");
  // 29.97 and 23.98 as printed snap to x * 1000/1001; 14.985 stays as printed (14.98 or 14.99).
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(30000.0 / 1001, 30000.0 / 1001), 30 * 1000.0 / 1001);
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(24000.0 / 1001, 24000.0 / 1001), 24 * 1000.0 / 1001);
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(12.5, 25.0), 12.5);
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(0.0, 25.0), 25.0);  // no average: tbr
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(0.0, 90000.0), 90000.0);  // "90k tbr"
  EXPECT_DOUBLE_EQ(*media::moviepy_fps(90000.0, 30.0), 30.0);    // "90k fps" fails float(): tbr
  EXPECT_FALSE(media::moviepy_fps(0.0, 0.0).has_value());
}

TEST(VideoTiming, MoviepyDurationIsCentisecondsHalfUp) {
  EXPECT_DOUBLE_EQ(media::moviepy_duration(4250000), 4.25);
  EXPECT_DOUBLE_EQ(media::moviepy_duration(4254999), 4.25);
  EXPECT_DOUBLE_EQ(media::moviepy_duration(4255000), 4.26);
  EXPECT_DOUBLE_EQ(media::moviepy_duration(3723456789), 3.46 + 60.0 * 2 + 3600.0 * 1);  // 01:02:03.46
  EXPECT_DOUBLE_EQ(media::moviepy_duration(52210000), 52.21);
}

// ---- generated odd inputs ------------------------------------------------------------------

class VideoGenerated : public ::testing::Test {
 protected:
  test::TempDir dir;
};

TEST_F(VideoGenerated, H264WithBFramesMatchesFfmpegCli) {
  TRIBEV2_REQUIRE_FFMPEG();
  const fs::path f = dir / "bframes.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=64x48:rate=25:duration=1.2 -pix_fmt yuv420p -c:v libx264 -bf 3 "
                      "-g 8 -colorspace bt709 -color_primaries bt709 -color_trc bt709 '" + f.string() + "'");
  const Tensor cli = test::video::ffmpeg_frames(f, 64, 48);
  VideoReader reader(f, 4);
  const auto& info = reader.info();
  EXPECT_EQ(info.codec, "h264");
  EXPECT_DOUBLE_EQ(info.fps, 25.0);
  EXPECT_EQ(info.n_frames, 30);
  ASSERT_EQ(cli.dim(0), 30);
  EXPECT_FALSE(info.variable_frame_rate);
  for (std::int64_t i = 0; i < cli.dim(0); ++i) ASSERT_EQ(frame_diff(cli, i, reader.frame(i)), 0) << i;
  // Backwards and forwards again through key frames.
  for (std::int64_t i : {3, 29, 0, 17, 9, 8, 25}) ASSERT_EQ(frame_diff(cli, i, reader.frame(i)), 0) << i;
}

TEST_F(VideoGenerated, PortraitVideo) {
  TRIBEV2_REQUIRE_FFMPEG();
  const fs::path f = dir / "portrait.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=36x64:rate=10:duration=0.5 -pix_fmt yuv420p -c:v libx264 '" +
                      f.string() + "'");
  VideoReader reader(f, 4);
  EXPECT_EQ(reader.info().width, 36);
  EXPECT_EQ(reader.info().height, 64);
  const Tensor cli = test::video::ffmpeg_frames(f, 36, 64);
  ASSERT_EQ(cli.dim(0), reader.info().n_frames);
  for (std::int64_t i = 0; i < cli.dim(0); ++i) ASSERT_EQ(frame_diff(cli, i, reader.frame(i)), 0) << i;
}

TEST_F(VideoGenerated, RotationMetadataIsApplied) {
  TRIBEV2_REQUIRE_FFMPEG();
  const fs::path plain = dir / "landscape.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=64x32:rate=10:duration=0.5 -pix_fmt yuv420p -c:v libx264 '" +
                      plain.string() + "'");
  for (int angle : {90, 180, 270}) {
    const fs::path f = dir / ("rot" + std::to_string(angle) + ".mp4");
    test::video::ffmpeg("-i '" + plain.string() + "' -c copy -metadata:s:v:0 rotate=" + std::to_string(angle) +
                        " '" + f.string() + "'");
    VideoReader reader(f, 4);
    const auto& info = reader.info();
    const bool swap = angle != 180;
    EXPECT_EQ(info.width, swap ? 32 : 64) << angle;
    EXPECT_EQ(info.height, swap ? 64 : 32) << angle;
    // ffmpeg 5.1 writes rotate=90 as a counter-clockwise matrix: the frames turn by 270.
    EXPECT_EQ(info.rotation, swap ? 360 - angle : 180);
    const Tensor cli = test::video::ffmpeg_frames(f, info.width, info.height);
    ASSERT_EQ(cli.dim(0), info.n_frames);
    for (std::int64_t i = 0; i < cli.dim(0); ++i) ASSERT_EQ(frame_diff(cli, i, reader.frame(i)), 0) << angle << " " << i;
  }
}

TEST_F(VideoGenerated, VariableFrameRate) {
  TRIBEV2_REQUIRE_FFMPEG();
  const fs::path f = dir / "vfr.mkv";
  // 10 frames: 0.1 s apart for the first five, then 0.3 s apart.
  test::video::ffmpeg("-f lavfi -i testsrc2=size=32x32:rate=10:duration=1 -vf "
                      "\"setpts='if(lt(N,5),N,5+(N-5)*3)'\" -fps_mode vfr -c:v ffv1 '" + f.string() + "'");
  VideoReaderOptions o;
  VideoReader reader(f, o);
  const auto& info = reader.info();
  EXPECT_TRUE(info.variable_frame_rate);
  EXPECT_EQ(info.n_frames, 10);
  const double times[] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 1.1, 1.4, 1.7};
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(reader.frame_time(i), times[i], 1e-3) << i;
  // Timestamps policy: the frame on screen.
  EXPECT_EQ(reader.frame_index_at(0.0), 0);
  EXPECT_EQ(reader.frame_index_at(0.45), 4);
  EXPECT_EQ(reader.frame_index_at(0.79), 5);
  EXPECT_EQ(reader.frame_index_at(0.8), 6);
  EXPECT_EQ(reader.frame_index_at(1.3), 7);
  EXPECT_EQ(reader.frame_index_at(9.0), 9);
  // Ordinal policy: moviepy's rule on the frame sequence.
  o.vfr = media::VfrPolicy::Ordinal;
  VideoReader ordinal(f, o);
  EXPECT_EQ(ordinal.frame_index_at(0.75), media::moviepy_frame_index(ordinal.info().fps, 0.75, 10));
  // Frames decode in order either way.
  const Tensor cli = test::video::ffmpeg_frames(f, 32, 32);
  EXPECT_GE(cli.dim(0), 10);
}

TEST_F(VideoGenerated, AudioTrackIsReported) {
  TRIBEV2_REQUIRE_FFMPEG();
  const fs::path with = dir / "with_audio.mp4";
  test::video::ffmpeg("-f lavfi -i testsrc2=size=32x32:rate=10:duration=0.5 -f lavfi -i "
                      "sine=frequency=440:duration=0.5 -pix_fmt yuv420p -c:v libx264 -c:a aac -shortest '" +
                      with.string() + "'");
  EXPECT_TRUE(media::probe_video(with).has_audio);
  EXPECT_FALSE(media::probe_video(clip()).has_audio);
}

TEST_F(VideoGenerated, CorruptAndNonVideoFiles) {
  EXPECT_THROW_MSG(media::probe_video(dir / "missing.mp4"), "missing.mp4");
  test::write_bytes(dir / "empty.mp4", "");
  EXPECT_THROW_MSG(media::probe_video(dir / "empty.mp4"), "empty.mp4");
  test::write_bytes(dir / "text.mp4", "this is not a video at all, just some text\n");
  EXPECT_THROW_MSG(media::probe_video(dir / "text.mp4"), "text.mp4");
  std::string noise(20000, '\0');
  std::mt19937 rng(3);
  for (auto& c : noise) c = static_cast<char>(rng());
  test::write_bytes(dir / "noise.mkv", noise);
  EXPECT_THROW(media::probe_video(dir / "noise.mkv"), Error);

  // A real file cut short, and one with garbage in the middle: decode what can be decoded,
  // never crash, and keep frame indices in range.
  const std::string bytes = test::read_bytes(clip());
  test::write_bytes(dir / "truncated.mkv", bytes.substr(0, bytes.size() / 2));
  try {
    VideoReader r(dir / "truncated.mkv", 4);
    EXPECT_LT(r.info().n_frames, 102);
    for (std::int64_t i = 0; i < r.info().n_frames; ++i) EXPECT_EQ(r.frame(i).dim(2), 3);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.mkv"), std::string::npos) << e.what();
  }
  std::string damaged = bytes;
  for (std::size_t i = damaged.size() / 3; i < damaged.size() / 3 + 4000; ++i) damaged[i] = static_cast<char>(rng());
  test::write_bytes(dir / "damaged.mkv", damaged);
  try {
    VideoReader r(dir / "damaged.mkv", 4);
    for (std::int64_t i = 0; i < r.info().n_frames; i += 7) EXPECT_EQ(r.frame(i).dim(2), 3);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged.mkv"), std::string::npos) << e.what();
  }
  // An audio-only file has no video stream.
  if (test::video::have_ffmpeg()) {
    test::video::ffmpeg("-f lavfi -i sine=frequency=440:duration=0.2 '" + (dir / "audio.wav").string() + "'");
    EXPECT_THROW_MSG(media::probe_video(dir / "audio.wav"), "no video stream");
  }
}

}  // namespace
}  // namespace tribev2
