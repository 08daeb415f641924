// libFuzzer target: decoding arbitrary bytes as a video must never crash or hang. Every
// failure must surface as tribev2::Error. Seeds: tests/fixtures/video_features/video/clip.mkv
// and small files made with the ffmpeg CLI (any container/codec).
#include <cstddef>
#include <cstdint>
#include <span>

#include "tribev2/core/error.hpp"
#include "tribev2/media/video.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tribev2;
  media::set_decoder_log(media::DecoderLog::Quiet);
  media::VideoReaderOptions o;
  o.cache_frames = 4;
  o.cache_bytes = std::size_t{16} << 20;
  o.decoder_threads = 1;
  o.max_pixels = std::int64_t{1} << 20;  // keep the fuzzer's memory small
  try {
    media::VideoReader reader(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz-input", o);
    const auto& info = reader.info();
    const std::int64_t n = info.n_frames;
    // A few frames in and out of order: sequential, a jump, a step back, the last one.
    for (std::int64_t i : {std::int64_t{1}, std::int64_t{2}, n / 2, std::int64_t{0}, n - 1}) {
      if (i < 0 || i >= reader.info().n_frames) continue;
      const Tensor f = reader.frame(i);
      if (f.ndim() != 3 || f.dim(2) != 3) __builtin_trap();
    }
    for (double t : {0.0, 0.5, 1e9, -1.0}) {
      const std::int64_t i = reader.frame_index_at(t);
      if (i < 0 || i >= reader.info().n_frames) __builtin_trap();
    }
  } catch (const Error&) {
    // rejected cleanly
  }
  return 0;
}
