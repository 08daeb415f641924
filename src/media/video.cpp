// Placeholder until the video decoder lands: every entry point fails loudly.
#include "tribev2/core/error.hpp"
#include "tribev2/media/video.hpp"

namespace tribev2::media {

struct VideoReader::Impl {};

VideoInfo probe_video(const std::filesystem::path& path) {
  fail(path.string(), ": video decoding is not implemented yet in this build (media layer pending)");
}
VideoReader::VideoReader(const std::filesystem::path& path, std::size_t) {
  fail(path.string(), ": video decoding is not implemented yet in this build (media layer pending)");
}
VideoReader::~VideoReader() = default;
const VideoInfo& VideoReader::info() const { fail("video decoding is not implemented yet"); }
std::int64_t VideoReader::frame_index_at(double) const { fail("video decoding is not implemented yet"); }
Tensor VideoReader::frame(std::int64_t) { fail("video decoding is not implemented yet"); }

}  // namespace tribev2::media
