// Stages 3-4 of the audio fixtures: log-mel from the normalised waveform, input_features
// (CMVN, padding, stacking); the FFT path against the direct-DFT twin; the constant-bin trap;
// preprocessor_config.json errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "audio_test_util.hpp"
#include "tribev2/features/audio/fbank.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;
using namespace tribev2::features::audio;

namespace {
FbankExtractor fixture_fbank() { return FbankExtractor(FbankConfig::from_json_file(af("tiny-w2v-bert/preprocessor_config.json"))); }
}  // namespace

TEST(AudioFbank, LogMelAndInputFeaturesMatchFixtures) {
  const Context ctx(2);
  const auto fx = fixture_fbank();
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const auto meta = nlohmann::json::parse(read_bytes(af(std::string(clip) + "/meta.json")));
    const Tensor wn = npy(std::string(clip) + "/waveform_norm.npy");
    EXPECT_EQ(fbank_frame_count(wn.dim(0)), meta["n_frames"].get<std::int64_t>());
    const Tensor lm = fx.log_mel(ctx, wn.f32());
    const Tensor lm_expected = npy(std::string(clip) + "/logmel.npy");
    const double d1 = max_abs_diff(lm, lm_expected);
    EXPECT_LE(d1, 1e-4);
    const Tensor feats = fx.input_features(lm);
    const Tensor feats_expected = npy(std::string(clip) + "/fbank_input_features.npy");
    EXPECT_EQ(feats.dim(0), meta["T50"].get<std::int64_t>());
    const double d2 = max_abs_diff(feats, feats_expected);
    EXPECT_LE(d2, 1e-4);
    // The same from the golden log-mel: CMVN alone (float32, frame order) is bit-close.
    const double d3 = max_abs_diff(fx.input_features(lm_expected), feats_expected);
    EXPECT_LE(d3, 1e-5);
    if (meta["odd_frames_padded"].get<bool>()) {
      const float* last = feats.data<float>() + (feats.dim(0) - 1) * 160;
      for (int j = 80; j < 160; ++j) EXPECT_EQ(last[j], 1.0f);
    }
    std::cout << "  " << clip << ": logmel " << d1 << ", input_features " << d2 << " (CMVN alone " << d3 << ")\n";
  }
}

TEST(AudioFbank, FftMatchesDirectDftTwin) {
  const Context ctx(2);
  const auto fx = fixture_fbank();
  const auto x = synth(16000, 1, 0.05, 3);  // 800 samples: 3 frames
  const Tensor lm = fx.log_mel(ctx, x.samples);
  ASSERT_EQ(lm.dim(0), 3);
  for (std::int64_t f = 0; f < 3; ++f) {
    const auto ref = reference::log_mel_frame(fx, x.samples, f);
    for (int j = 0; j < 80; ++j) EXPECT_NEAR(lm.data<float>()[f * 80 + j], ref[static_cast<std::size_t>(j)], 2e-5);
  }
}

TEST(AudioFbank, MelBankIsKaldiTriangles) {
  const auto fx = fixture_fbank();
  const auto mel = fx.mel_filters();
  ASSERT_EQ(mel.size(), 257u * 80u);
  for (int j = 0; j < 80; ++j) EXPECT_EQ(mel[256 * 80 + static_cast<std::size_t>(j)], 0.0);  // Nyquist row
  // Bin 0 (0 Hz) lies below 20 Hz: no weight anywhere.
  for (int j = 0; j < 80; ++j) EXPECT_EQ(mel[static_cast<std::size_t>(j)], 0.0);
  // Every filter has a peak <= 1 and some support.
  for (int j = 0; j < 80; ++j) {
    double mx = 0.0;
    for (int k = 0; k < 257; ++k) mx = std::max(mx, mel[static_cast<std::size_t>(k) * 80 + static_cast<std::size_t>(j)]);
    EXPECT_GT(mx, 0.0);
    EXPECT_LE(mx, 1.0);
  }
  const auto w = fx.window();
  EXPECT_EQ(w.front(), 0.0);
  EXPECT_EQ(w.back(), 0.0);
}

TEST(AudioFbank, ConstantBinTrap) {
  const Context ctx(1);
  const auto fx = fixture_fbank();
  // 1223 frames of digital silence: every bin sits on the log floor.
  const std::vector<float> silence(196000, 0.0f);
  const Tensor lm = fx.log_mel(ctx, silence);
  ASSERT_EQ(lm.dim(0), 1223);
  for (const float v : lm.f32()) ASSERT_EQ(v, lm.f32()[0]);
  EXPECT_NEAR(lm.f32()[0], std::log(1.192092955078125e-07), 1e-6);
  // Reference (HF's float32 arithmetic): roundoff over sqrt(1e-7), about 0.44 here.
  const Tensor ref = fx.input_features(lm, ConstantBins::Reference);
  EXPECT_NEAR(std::abs(ref.f32()[0]), 0.44, 0.05);
  // Zero: the intended value.
  const Tensor zero = fx.input_features(lm, ConstantBins::Zero);
  for (std::int64_t i = 0; i < 611 * 160; ++i) ASSERT_EQ(zero.f32()[static_cast<std::size_t>(i)], 0.0f);
  for (int j = 80; j < 160; ++j) EXPECT_EQ(zero.f32()[static_cast<std::size_t>(611 * 160 + j)], 1.0f);  // padding row
  // Bins that vary are identical in both modes.
  const Tensor wn = npy("mono16k/waveform_norm.npy");
  const Tensor lm2 = fx.log_mel(ctx, wn.f32());
  EXPECT_EQ(max_abs_diff(fx.input_features(lm2, ConstantBins::Zero), fx.input_features(lm2, ConstantBins::Reference)), 0.0);
}

TEST(AudioFbank, ShortInputs) {
  const Context ctx(1);
  const auto fx = fixture_fbank();
  EXPECT_EQ(fbank_frame_count(399), 0);
  EXPECT_EQ(fbank_frame_count(400), 1);
  EXPECT_EQ(fbank_frame_count(559), 1);
  EXPECT_EQ(fbank_frame_count(560), 2);
  EXPECT_THROW_MSG(fx.log_mel(ctx, std::vector<float>(399, 0.1f)), "shorter than one 25 ms frame");
  const Tensor one = fx.log_mel(ctx, synth(16000, 1, 0.03).samples);
  ASSERT_EQ(one.dim(0), 1);
  EXPECT_THROW_MSG(fx.input_features(one), "at least 2 frames");
}

TEST(AudioFbank, PreprocessorConfigErrors) {
  TempDir tmp;
  auto write = [&](const std::string& text) {
    write_bytes(tmp / "p.json", text);
    return tmp / "p.json";
  };
  const auto c = FbankConfig::from_json_file(af("tiny-w2v-bert/preprocessor_config.json"));
  EXPECT_EQ(c.num_mel_bins, 80);
  EXPECT_EQ(c.stride, 2);
  EXPECT_EQ(c.padding_value, 1.0f);
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write("{")), "not valid JSON");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write("[1]")), "expected a JSON object");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write(R"({"sampling_rate": 8000})")), "sampling_rate");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write(R"({"stride": "2"})")), "stride: expected an integer");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write(R"({"feature_extractor_type": "Wav2Vec2FeatureExtractor"})")),
                   "SeamlessM4TFeatureExtractor");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(write(R"({"num_mel_bins": 80, "feature_size": 40})")), "feature_size");
  EXPECT_THROW_MSG(FbankConfig::from_json_file(tmp / "missing.json"), "missing.json");
}
