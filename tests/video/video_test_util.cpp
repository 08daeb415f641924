#include "video_test_util.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tribev2::test::video {

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -version > /dev/null 2>&1") == 0; }

void ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -hide_banner -loglevel error -nostdin -y " + args + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << "command failed: " << cmd;
}

Tensor ffmpeg_frames(const std::filesystem::path& video, int width, int height) {
  const std::string cmd = "ffmpeg -hide_banner -loglevel error -nostdin -i '" + video.string() +
                          "' -f image2pipe -vf scale=" + std::to_string(width) + ":" + std::to_string(height) +
                          " -sws_flags bicubic -pix_fmt rgb24 -vcodec rawvideo -";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::vector<std::uint8_t> bytes;
  std::array<char, 1 << 16> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) bytes.insert(bytes.end(), buf.begin(), buf.begin() + n);
  pclose(p);
  const std::size_t frame = static_cast<std::size_t>(width) * height * 3;
  const auto count = static_cast<std::int64_t>(bytes.size() / frame);
  Tensor t = Tensor::empty(DType::U8, {count, height, width, 3});
  std::memcpy(t.data<std::uint8_t>(), bytes.data(), static_cast<std::size_t>(count) * frame);
  return t;
}

}  // namespace tribev2::test::video
