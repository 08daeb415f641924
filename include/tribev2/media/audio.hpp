// Audio decoding with the FFmpeg libraries (implementation: src/media/audio.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tribev2::media {

struct AudioInfo {
  double duration = 0.0;    // seconds (container/stream duration, or samples / rate)
  int sample_rate = 0;
  int channels = 0;
  std::string codec;
  std::string container;
};

// Float samples at the stream's own rate, interleaved [frames, channels].
struct AudioBuffer {
  int sample_rate = 0;
  int channels = 0;
  std::vector<float> samples;
  std::int64_t frames() const { return channels ? static_cast<std::int64_t>(samples.size()) / channels : 0; }
  double duration() const { return sample_rate ? static_cast<double>(frames()) / sample_rate : 0.0; }
};

bool has_audio(const std::filesystem::path& path);
AudioInfo probe_audio(const std::filesystem::path& path);  // first audio stream; clear error if none

// Decodes the first audio stream. Like upstream's soundfile read of an Audio event: frames
// [round(offset * rate), + round(duration * rate)) when duration >= 0, else to the end.
AudioBuffer decode_audio(const std::filesystem::path& path, double offset = 0.0, double duration = -1.0);

// The audio of a video as upstream's ExtractAudioFromVideo writes it with moviepy:
// 44.1 kHz, 16-bit PCM (values int16 / 32768), the source channel count.
AudioBuffer decode_audio_like_moviepy(const std::filesystem::path& video_path);

// Writes 16-bit PCM or 32-bit float WAV (atomically).
void write_wav(const std::filesystem::path& path, const AudioBuffer& audio, bool float32 = false);

}  // namespace tribev2::media
