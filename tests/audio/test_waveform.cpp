// Stages 1-2 of the audio fixtures: julius ResampleFrac (resample/ cases and both clips) and
// mono + z-score; the resampler against its per-sample reference twin on odd sizes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audio_test_util.hpp"
#include "tribev2/features/audio/waveform.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;
using namespace tribev2::features::audio;

TEST(AudioWaveform, JuliusResampleCases) {
  const Context ctx(2);
  const auto cases = nlohmann::json::parse(read_bytes(af("resample/cases.json")));
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["input"].get<std::string>());
    const Tensor in = npy("resample/" + c["input"].get<std::string>());
    const Tensor expected = npy("resample/" + c["output"].get<std::string>());
    const int sr = c["sr_in"].get<int>();
    const ResampleFrac r(sr, 16000);
    EXPECT_EQ(r.width(), c["width"].get<int>());
    EXPECT_EQ(r.output_length(c["n_in"].get<std::int64_t>()), c["n_out"].get<std::int64_t>());
    ASSERT_EQ(in.dim(0), c["n_in"].get<std::int64_t>());
    const auto channels = static_cast<int>(in.dim(1));
    const auto out = resample_channels(ctx, in.f32(), channels, sr);
    const Tensor got = from_vector(out, {static_cast<std::int64_t>(out.size()) / channels, channels});
    const double d = max_abs_diff(got, expected);
    EXPECT_LE(d, 1e-5);
    std::cout << "  resample " << sr << " Hz x" << channels << ": max abs diff " << d << "\n";
  }
}

TEST(AudioWaveform, OutputLengthRoundsUpInFloat32) {
  // 540451 samples at 44.1 kHz: 160 * 540451 / 441 = 196081.99..., float32 -> 196082.
  const ResampleFrac r(44100, 16000);
  EXPECT_EQ(r.old_rate(), 441);
  EXPECT_EQ(r.new_rate(), 160);
  EXPECT_EQ(r.width(), 70);
  EXPECT_EQ(r.output_length(540451), 196082);
  EXPECT_EQ(ResampleFrac(48000, 16000).width(), 77);
  EXPECT_EQ(ResampleFrac(8000, 16000).width(), 26);
  EXPECT_EQ(ResampleFrac(22050, 16000).width(), 35);
  EXPECT_TRUE(ResampleFrac(16000, 16000).identity());
  EXPECT_EQ(ResampleFrac(16000, 16000).output_length(123), 123);
  EXPECT_THROW_MSG(ResampleFrac(0, 16000), "sample rates must be positive");
}

TEST(AudioWaveform, ClipStages) {
  const Context ctx(2);
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const auto meta = nlohmann::json::parse(read_bytes(af(std::string(clip) + "/meta.json")));
    const auto wav = media::decode_audio(af(meta["input_wav"].get<std::string>()));
    ASSERT_EQ(wav.frames(), meta["n_samples"].get<std::int64_t>());
    // Stage 1 from the input samples.
    const auto r = resample_channels(ctx, wav.samples, wav.channels, wav.sample_rate);
    const Tensor w16 = npy(std::string(clip) + "/waveform_16k.npy");
    ASSERT_EQ(static_cast<std::int64_t>(r.size()) / wav.channels, meta["n_samples_16k"].get<std::int64_t>());
    const double d1 = max_abs_diff(from_vector(r, w16.shape()), w16);
    EXPECT_LE(d1, 1e-5);
    // Stage 2 from the stage-1 golden.
    const auto z = mono_zscore(w16.f32(), static_cast<int>(w16.dim(1)));
    const Tensor wn = npy(std::string(clip) + "/waveform_norm.npy");
    const double d2 = max_abs_diff(from_vector(z, wn.shape()), wn);
    EXPECT_LE(d2, 1e-5);
    std::cout << "  " << clip << ": waveform_16k " << d1 << ", waveform_norm " << d2 << "\n";
  }
}

TEST(AudioWaveform, ResamplerMatchesReferenceTwinOnOddSizes) {
  const Context ctx(3);
  for (const int sr : {8000, 11025, 22050, 44100, 48000, 96000}) {
    for (const int n : {1, 3, 17, 441, 1023}) {
      SCOPED_TRACE(std::to_string(sr) + " Hz, n = " + std::to_string(n));
      const auto x = synth(sr, 1, static_cast<double>(n) / sr, static_cast<unsigned>(n));
      const ResampleFrac r(sr, 16000);
      std::vector<float> y(static_cast<std::size_t>(r.output_length(n)));
      if (y.empty()) continue;
      r.apply(ctx, x.samples.data(), n, 1, y.data(), 1);
      const auto ref = reference::resample(r, x.samples);
      ASSERT_EQ(ref.size(), y.size());
      for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-5) << i;
    }
  }
}

TEST(AudioWaveform, ZscoreEdgeCases) {
  // Digital silence: std 0 -> (x - 0) / 1e-8 = 0 everywhere.
  const std::vector<float> silence(1000, 0.0f);
  for (const float v : mono_zscore(silence, 2)) EXPECT_EQ(v, 0.0f);
  // Channel mean before the z-score: identical channels give the mono result.
  const auto s = synth(16000, 1, 0.1);
  std::vector<float> dup;
  for (const float v : s.samples) {
    dup.push_back(v);
    dup.push_back(v);
  }
  EXPECT_EQ(mono_zscore(dup, 2), mono_zscore(s.samples, 1));
  EXPECT_THROW_MSG(mono_zscore(std::vector<float>{1.0f}, 1), "at least 2 samples");
}
