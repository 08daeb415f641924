#include "audio_test_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "tribev2/io/npy.hpp"

namespace tribev2::test::audio {

std::filesystem::path af(const std::string& rel) { return fixture("audio_features/" + rel); }
Tensor npy(const std::string& rel) { return io::read_npy(af(rel)); }

const features::audio::W2vBertModel& tiny() {
  static const features::audio::W2vBertModel m = features::audio::W2vBertModel::load(af("tiny-w2v-bert"));
  return m;
}

Tensor from_vector(const std::vector<float>& v, Shape shape) {
  return Tensor::from<float>(std::move(shape), std::span<const float>(v));
}

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -version >/dev/null 2>&1") == 0; }

int run_shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::vector<float> read_f32le(const std::filesystem::path& p) {
  const std::string b = read_bytes(p);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::vector<std::int16_t> read_s16le(const std::filesystem::path& p) {
  const std::string b = read_bytes(p);
  std::vector<std::int16_t> v(b.size() / 2);
  std::memcpy(v.data(), b.data(), v.size() * 2);
  return v;
}

media::AudioBuffer synth(int rate, int channels, double seconds, unsigned seed) {
  media::AudioBuffer b;
  b.sample_rate = rate;
  b.channels = channels;
  const auto n = static_cast<std::int64_t>(std::llround(seconds * rate));
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  b.samples.resize(static_cast<std::size_t>(n * channels));
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 0; c < channels; ++c) {
      const double t = static_cast<double>(i) / rate;
      const double f = 220.0 * (c + 1) + 30.0 * std::sin(2 * M_PI * 0.7 * t);
      b.samples[static_cast<std::size_t>(i * channels + c)] =
          static_cast<float>(0.3 * std::sin(2 * M_PI * f * t) * (0.6 + 0.4 * std::sin(2 * M_PI * 0.3 * t))) + noise(rng);
    }
  return b;
}

}  // namespace tribev2::test::audio
