// libFuzzer target: decoding arbitrary bytes as audio must never crash, hang or allocate
// without bound (tribev2::Error is the only acceptable failure). The first byte picks the
// demuxer: forced WAV (the common case), or FFmpeg's probing of the bytes.
#include <cstddef>
#include <cstdint>
#include <span>

extern "C" {
#include <libavutil/log.h>
}

#include "tribev2/core/error.hpp"
#include "tribev2/media/audio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  av_log_set_level(AV_LOG_QUIET);  // the fuzzer owns the process; FFmpeg's warnings are noise here
  if (size < 1) return 0;
  const bool probe = (data[0] & 1) != 0;
  const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data + 1, size - 1));
  try {
    const auto buf = tribev2::media::decode_audio_bytes(bytes, "fuzz", probe ? nullptr : "wav");
    if (buf.channels > 0 && buf.samples.size() % static_cast<std::size_t>(buf.channels) != 0) __builtin_trap();
  } catch (const tribev2::Error&) {
  }
  return 0;
}
