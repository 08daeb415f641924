// Helpers of the video tests: tiny test videos made with the ffmpeg CLI (installed by
// scripts/install-deps.sh --test), and the CLI's own decoding to compare with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "tribev2/core/tensor.hpp"

namespace tribev2::test::video {

bool have_ffmpeg();
// Runs `ffmpeg -hide_banner -loglevel error -y <args>`; fails the test on a non-zero exit.
void ffmpeg(const std::string& args);
// Every frame as the ffmpeg CLI pipes it to moviepy (`-f image2pipe -vf scale=W:H -sws_flags
// bicubic -pix_fmt rgb24 -vcodec rawvideo`), W x H the display size: uint8 [n, H, W, 3].
Tensor ffmpeg_frames(const std::filesystem::path& video, int width, int height);

#define TRIBEV2_REQUIRE_FFMPEG()                                            \
  do {                                                                       \
    if (!::tribev2::test::video::have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed"; \
  } while (0)

}  // namespace tribev2::test::video
