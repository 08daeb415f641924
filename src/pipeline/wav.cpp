#include "tribev2/pipeline/wav.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::pipeline {

namespace {
void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}
void put_u16(std::vector<std::byte>& out, std::uint16_t v) {
  out.push_back(static_cast<std::byte>(v & 0xFF));
  out.push_back(static_cast<std::byte>(v >> 8));
}
void put_tag(std::vector<std::byte>& out, const char* tag) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(tag[i]));
}
}  // namespace

std::vector<std::byte> encode_wav_pcm16(std::span<const std::int16_t> samples, int sample_rate, int channels) {
  TRIBEV2_CHECK(sample_rate > 0 && channels > 0 && channels <= 16, "WAV: bad sample rate ", sample_rate,
                " or channel count ", channels);
  TRIBEV2_CHECK(samples.size() % static_cast<std::size_t>(channels) == 0, "WAV: ", samples.size(),
                " samples do not make whole frames of ", channels, " channels");
  const std::uint64_t data_bytes = samples.size() * 2;
  TRIBEV2_CHECK(data_bytes <= 0xFFFFFFFFull - 36, "WAV: too long for a RIFF file (", data_bytes, " bytes)");
  std::vector<std::byte> out;
  out.reserve(44 + data_bytes);
  put_tag(out, "RIFF");
  put_u32(out, static_cast<std::uint32_t>(36 + data_bytes));
  put_tag(out, "WAVE");
  put_tag(out, "fmt ");
  put_u32(out, 16);
  put_u16(out, 1);  // PCM
  put_u16(out, static_cast<std::uint16_t>(channels));
  put_u32(out, static_cast<std::uint32_t>(sample_rate));
  put_u32(out, static_cast<std::uint32_t>(sample_rate * channels * 2));
  put_u16(out, static_cast<std::uint16_t>(channels * 2));
  put_u16(out, 16);
  put_tag(out, "data");
  put_u32(out, static_cast<std::uint32_t>(data_bytes));
  for (std::int16_t s : samples) put_u16(out, static_cast<std::uint16_t>(s));
  return out;
}

void write_wav_pcm16(const std::filesystem::path& path, std::span<const std::int16_t> samples, int sample_rate,
                     int channels) {
  io::write_file_atomic(path, encode_wav_pcm16(samples, sample_rate, channels));
}

}  // namespace tribev2::pipeline
