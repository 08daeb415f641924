// Helpers of the audio tests: fixture access, per-slice comparisons, ffmpeg CLI media.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/features/audio/w2v_bert.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::test::audio {

std::filesystem::path af(const std::string& rel);  // tests/fixtures/audio_features/<rel>
Tensor npy(const std::string& rel);                // read_npy of af(rel)
// The fixture's tiny w2v-BERT (loaded once).
const features::audio::W2vBertModel& tiny();
Tensor from_vector(const std::vector<float>& v, Shape shape);

// Per-slice comparisons: tribev2::test::rel_diff_per_slice (tests/support, NaN-aware).

// The ffmpeg command line (test dependency): whether it runs, and running a command.
bool have_ffmpeg();
int run_shell(const std::string& cmd);
// Raw little-endian samples written by the ffmpeg CLI to a file.
std::vector<float> read_f32le(const std::filesystem::path& p);
std::vector<std::int16_t> read_s16le(const std::filesystem::path& p);

// A synthetic signal: `channels` sines with a little noise, interleaved, `seconds` long.
media::AudioBuffer synth(int rate, int channels, double seconds, unsigned seed = 1);

}  // namespace tribev2::test::audio
