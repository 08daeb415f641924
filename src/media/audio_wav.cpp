// write_wav: RIFF/WAVE, 16-bit PCM (format 1) or 32-bit IEEE float (format 3), written to a
// temporary file next to the target and renamed over it.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::media {

namespace {

void put_u16(std::vector<char>& b, std::uint16_t v) {
  b.push_back(static_cast<char>(v & 0xff));
  b.push_back(static_cast<char>(v >> 8));
}
void put_u32(std::vector<char>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_tag(std::vector<char>& b, const char* tag) { b.insert(b.end(), tag, tag + 4); }

}  // namespace

void write_wav(const std::filesystem::path& path, const AudioBuffer& audio, bool float32) {
  TRIBEV2_CHECK(audio.sample_rate > 0 && audio.channels > 0 && audio.channels <= 64, path.string(),
                ": cannot write a WAV with ", audio.sample_rate, " Hz and ", audio.channels, " channels");
  TRIBEV2_CHECK(audio.samples.size() % static_cast<std::size_t>(audio.channels) == 0, path.string(),
                ": sample count ", audio.samples.size(), " is not a multiple of the channel count ", audio.channels);
  const std::uint32_t bytes_per_sample = float32 ? 4 : 2;
  const std::uint64_t data_bytes = static_cast<std::uint64_t>(audio.samples.size()) * bytes_per_sample;
  TRIBEV2_CHECK(data_bytes < 0xFFFFFF00ull - 64, path.string(), ": ", data_bytes,
                " bytes of samples do not fit in a WAV file (4 GiB limit)");
  const auto channels = static_cast<std::uint16_t>(audio.channels);
  const auto rate = static_cast<std::uint32_t>(audio.sample_rate);
  std::vector<char> b;
  b.reserve(64 + static_cast<std::size_t>(data_bytes));
  const std::uint32_t fmt_size = float32 ? 18 : 16;
  const std::uint32_t fact_size = float32 ? 12 : 0;
  put_tag(b, "RIFF");
  put_u32(b, static_cast<std::uint32_t>(4 + (8 + fmt_size) + fact_size + 8 + data_bytes));
  put_tag(b, "WAVE");
  put_tag(b, "fmt ");
  put_u32(b, fmt_size);
  put_u16(b, float32 ? 3 : 1);
  put_u16(b, channels);
  put_u32(b, rate);
  put_u32(b, rate * channels * bytes_per_sample);
  put_u16(b, static_cast<std::uint16_t>(channels * bytes_per_sample));
  put_u16(b, static_cast<std::uint16_t>(8 * bytes_per_sample));
  if (float32) {
    put_u16(b, 0);  // cbSize
    put_tag(b, "fact");
    put_u32(b, 4);
    put_u32(b, static_cast<std::uint32_t>(audio.frames()));
  }
  put_tag(b, "data");
  put_u32(b, static_cast<std::uint32_t>(data_bytes));
  for (const float x : audio.samples) {
    if (float32) {
      std::uint32_t u;
      std::memcpy(&u, &x, 4);
      put_u32(b, u);
    } else {
      const double v = std::isnan(x) ? 0.0 : std::nearbyint(static_cast<double>(x) * 32768.0);
      const double c = v < -32768.0 ? -32768.0 : (v > 32767.0 ? 32767.0 : v);
      put_u16(b, static_cast<std::uint16_t>(static_cast<std::int16_t>(c)));
    }
  }

  io::write_file_atomic(path, std::as_bytes(std::span<const char>(b.data(), b.size())));
}

}  // namespace tribev2::media
