// A minimal 16-bit PCM WAV writer for the synthesised speech of text inputs.
// TEMPORARY: media::write_wav (the audio layer) replaces it once merged; until then the
// media layer's writer is a placeholder that fails.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace tribev2::pipeline {

// RIFF/WAVE, PCM format 1, 16 bits, interleaved channels, little endian.
std::vector<std::byte> encode_wav_pcm16(std::span<const std::int16_t> samples, int sample_rate, int channels = 1);
// Written atomically (temporary file + rename).
void write_wav_pcm16(const std::filesystem::path& path, std::span<const std::int16_t> samples, int sample_rate,
                     int channels = 1);

}  // namespace tribev2::pipeline
