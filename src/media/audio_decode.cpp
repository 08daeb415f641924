// Decoding of the first audio stream into float samples: the sequential AudioReader and the
// whole-file / offset+duration helpers built on it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "audio_ffmpeg.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::media {

using audio_detail::AudioInput;

struct AudioReader::Impl {
  explicit Impl(const std::filesystem::path& path) : input(path) {}
  Impl(std::span<const std::byte> bytes, const std::string& name, const char* format) : input(bytes, name, format) {}

  AudioInput input;
  std::vector<float> pending;  // decoded frames [pos, pos + pending.size() / channels)
  std::int64_t pos = 0;
  bool exhausted = false;
};

AudioReader::AudioReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {}
AudioReader::AudioReader(std::span<const std::byte> bytes, const std::string& name, const char* format)
    : impl_(std::make_unique<Impl>(bytes, name, format)) {}
AudioReader::~AudioReader() = default;
AudioReader::AudioReader(AudioReader&&) noexcept = default;
AudioReader& AudioReader::operator=(AudioReader&&) noexcept = default;

const AudioInfo& AudioReader::info() const { return impl_->input.info(); }
std::int64_t AudioReader::position() const { return impl_->pos; }

AudioBuffer AudioReader::read(std::int64_t first, std::int64_t count) {
  Impl& s = *impl_;
  const int C = s.input.info().channels;
  TRIBEV2_CHECK(first >= s.pos, s.input.name(), ": AudioReader reads forward only (frame ", first,
                " requested, already at frame ", s.pos, ")");
  const std::int64_t end =
      count < 0 || count > std::numeric_limits<std::int64_t>::max() - first ? std::numeric_limits<std::int64_t>::max()
                                                                            : first + count;
  AudioBuffer out;
  out.sample_rate = s.input.info().sample_rate;
  out.channels = C;
  // Moves the pending frames inside [first, end) to `out` and drops the ones before it.
  auto take = [&] {
    const auto pf = static_cast<std::int64_t>(s.pending.size()) / C;
    const std::int64_t a = std::clamp<std::int64_t>(first - s.pos, 0, pf);
    const std::int64_t b = std::clamp<std::int64_t>(end - s.pos, 0, pf);
    out.samples.insert(out.samples.end(), s.pending.begin() + a * C, s.pending.begin() + b * C);
    s.pending.erase(s.pending.begin(), s.pending.begin() + b * C);
    s.pos += b;
  };
  take();
  while (!s.exhausted && s.pos + static_cast<std::int64_t>(s.pending.size()) / C < end) {
    const bool more = s.input.decode_next(
        [&](const AVFrame& f) { audio_detail::append_frame_samples(f, C, s.pending, s.input.name()); });
    if (!more) s.exhausted = true;
    take();
  }
  if (first > s.pos)
    fail(s.input.name(), ": frame ", first, " requested but the audio stream has only ", s.pos, " frames (",
         static_cast<double>(s.pos) / out.sample_rate, " s)");
  return out;
}

AudioBuffer decode_audio(const std::filesystem::path& path, double offset, double duration) {
  TRIBEV2_CHECK(std::isfinite(offset) && offset >= 0.0, path.string(), ": offset must be >= 0 s, got ", offset);
  TRIBEV2_CHECK(std::isfinite(duration) || duration < 0.0, path.string(), ": duration must be finite, got ", duration);
  AudioReader reader(path);
  const double sr = reader.sample_rate();
  // soundfile.read(start=round(offset * sr), frames=round(duration * sr)), Python rounding.
  const auto first = static_cast<std::int64_t>(std::nearbyint(offset * sr));
  const std::int64_t count = duration < 0.0 ? -1 : static_cast<std::int64_t>(std::nearbyint(duration * sr));
  return reader.read(first, count);
}

AudioBuffer decode_audio_bytes(std::span<const std::byte> bytes, const std::string& name, const char* format) {
  AudioReader reader(bytes, name, format);
  return reader.read(0, -1);
}

std::int64_t count_audio_frames(const std::filesystem::path& path) {
  // Decoding is the only count that holds for every file (a WAV header can claim more data
  // than a truncated file has; compressed streams only estimate their length).
  AudioInput input(path);
  std::int64_t n = 0;
  while (input.decode_next([&](const AVFrame& f) { n += f.nb_samples > 0 ? f.nb_samples : 0; })) {
  }
  return n;
}

AudioInfo probe_audio(const std::filesystem::path& path) { return AudioInput(path).info(); }

bool has_audio(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path.string(), ": no such file");
  AVFormatContext* raw = nullptr;
  int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (r < 0) fail(path.string(), ": cannot open as audio or video (", audio_detail::av_error_text(r), ")");
  std::unique_ptr<AVFormatContext, audio_detail::FormatCloser> fmt(raw);
  r = avformat_find_stream_info(fmt.get(), nullptr);
  if (r < 0) fail(path.string(), ": cannot read stream information (", audio_detail::av_error_text(r), ")");
  return av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0) >= 0;
}

}  // namespace tribev2::media
