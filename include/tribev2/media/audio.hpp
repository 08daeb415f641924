// Audio decoding with the FFmpeg libraries (implementation: src/media/audio_*.cpp).
//
// Samples are float32, interleaved [frames, channels], at the stream's own rate, converted
// exactly as libsndfile/soundfile convert them (int16 / 32768, int32 / 2^31, u8: (v-128)/128),
// so a WAV or FLAC decodes to the values upstream's soundfile.read returns (as float32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tribev2::media {

struct AudioInfo {
  double duration = 0.0;    // seconds (container/stream duration, or samples / rate)
  int sample_rate = 0;
  int channels = 0;
  std::string codec;
  std::string container;
  // Exact sample frames when the container states them exactly (PCM, FLAC); -1 otherwise
  // (compressed formats: count them with count_audio_frames).
  std::int64_t frames = -1;
  bool has_video = false;   // a real video stream (cover art pictures do not count)
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
// [round(offset * rate), + round(duration * rate)) when duration >= 0, else to the end
// (Python round, half to even). A request running past the end is truncated, as soundfile
// does; an offset beyond the end is an error.
AudioBuffer decode_audio(const std::filesystem::path& path, double offset = 0.0, double duration = -1.0);

// The same from a file image in memory (e.g. for fuzzing); `name` appears in error messages.
// `format` forces a demuxer ("wav", ...); null probes the bytes.
AudioBuffer decode_audio_bytes(std::span<const std::byte> bytes, const std::string& name,
                               const char* format = nullptr);

// Number of sample frames of the first audio stream: exact from the header for PCM/FLAC,
// otherwise by decoding the whole stream (what soundfile.info reports for such files).
std::int64_t count_audio_frames(const std::filesystem::path& path);

// Sequential decoder of the first audio stream: reads consecutive ranges without decoding
// the file again (the extractor reads one 60 s chunk after the other).
class AudioReader {
 public:
  explicit AudioReader(const std::filesystem::path& path);
  // `bytes` must outlive the reader.
  AudioReader(std::span<const std::byte> bytes, const std::string& name, const char* format = nullptr);
  ~AudioReader();
  AudioReader(AudioReader&&) noexcept;
  AudioReader& operator=(AudioReader&&) noexcept;

  const AudioInfo& info() const;
  int sample_rate() const { return info().sample_rate; }
  int channels() const { return info().channels; }
  std::int64_t position() const;  // frames consumed (returned or skipped) so far

  // Frames [first, first + count) (count < 0: to the end), truncated at the end of the
  // stream. `first` must not lie before position().
  AudioBuffer read(std::int64_t first, std::int64_t count);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The audio of a video as upstream's ExtractAudioFromVideo writes it with moviepy:
// 44.1 kHz, 16-bit PCM (values int16 / 32768), 2 channels (moviepy's reader always asks
// ffmpeg for `-ac 2`), int(44100 * duration) frames where duration is the container duration
// as ffmpeg prints it (centiseconds), zero-padded past the decoded audio, clipped to
// +-0.99 and truncated to int16 as moviepy's quantisation does. Resampling, remixing and
// conversion to int16 use libswresample with the ffmpeg command line's defaults.
AudioBuffer decode_audio_like_moviepy(const std::filesystem::path& video_path);

// Writes 16-bit PCM or 32-bit float WAV (atomically). 16-bit: round(x * 32768) clipped to
// the int16 range (exact for values that came from int16 / 32768).
void write_wav(const std::filesystem::path& path, const AudioBuffer& audio, bool float32 = false);

}  // namespace tribev2::media
