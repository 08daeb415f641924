// The stimulus rows' decoding (src/cli/stimuli): frames downscaled for the figure keep the
// video's own width, which upstream's 200-pixel corner rounding refers to.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../../src/cli/stimuli.hpp"
#include "support/test_support.hpp"

TEST(StimulusStrip, DownscaledFramesKeepTheVideosWidth) {
  if (std::system("ffmpeg -hide_banner -version > /dev/null 2>&1") != 0) GTEST_SKIP() << "ffmpeg CLI not installed";
  tribev2::test::TempDir tmp;
  const auto clip = tmp / "clip.mp4";
  const std::string cmd =
      "ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 -t 2 -pix_fmt yuv420p '" + clip.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  tribev2::cli::StimulusSource src;
  src.video = clip;
  const std::vector<double> blocks{0.0, 1.0};
  const auto strip = tribev2::cli::build_stimulus_strip(src, blocks, 0.0, 2.0, 160);
  ASSERT_EQ(strip.frames.size(), 2u);
  for (const auto& f : strip.frames) {
    EXPECT_EQ(f.width, 160);
    EXPECT_EQ(f.height, 90);
    EXPECT_EQ(f.source_width, 640);
    EXPECT_EQ(f.rgb.size(), 160u * 90u * 3u);
  }
}
