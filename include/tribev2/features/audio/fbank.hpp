// HuggingFace SeamlessM4TFeatureExtractor (the w2v-BERT 2.0 preprocessor), reference-semantics
// 3.1 step 5 and fixtures README audio_features stages 3-4: Kaldi-style log-mel filterbank
// (25 ms / 10 ms frames, DC removal, pre-emphasis 0.97, povey window, 512-point FFT via
// FFTW, 80 Kaldi mel bins 20-8000 Hz, log floor), per-bin CMVN, odd-length padding and
// stride-2 stacking to 160-dim frames at 50 Hz.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2::features::audio {

// preprocessor_config.json of the checkpoint folder.
struct FbankConfig {
  int num_mel_bins = 80;
  int sampling_rate = 16000;
  int stride = 2;
  float padding_value = 1.0f;

  static FbankConfig from_json_file(const std::filesystem::path& path);
};

// What CMVN does with a mel bin that is constant over the whole input (e.g. a file of pure
// digital silence, where every bin sits on the log floor). HF's float32 arithmetic does not
// give 0 there but roundoff amplified by 1/sqrt(1e-7) (0.44 for 1223 frames of floor values);
// our float32 frame-order evaluation reproduces that value bit for bit.
enum class ConstantBins {
  Reference,  // as upstream computes it (default: parity)
  Zero,       // the intended value: a bin with no variation normalises to 0
};

// Frames of a 16 kHz signal of n samples: 1 + (n - 400) // 160 (0 when n < 400).
std::int64_t fbank_frame_count(std::int64_t n_samples);

class FbankExtractor {
 public:
  explicit FbankExtractor(const FbankConfig& config = {});
  ~FbankExtractor();
  FbankExtractor(FbankExtractor&&) noexcept;
  FbankExtractor& operator=(FbankExtractor&&) noexcept;

  const FbankConfig& config() const;
  // The mel bank [257, num_mel_bins] (float64, HF's mel_filter_bank with the Nyquist row 0).
  std::span<const double> mel_filters() const;
  std::span<const double> window() const;  // povey, 400 taps (symmetric hanning^0.85)

  // Natural-log mel energies [n_frames, num_mel_bins] float32 of a 16 kHz waveform (the
  // z-scored samples; the x32768 scaling is applied here). Needs at least 400 samples.
  Tensor log_mel(const Context& ctx, std::span<const float> wave) const;

  // CMVN (ddof 1, float32 in frame order), padding to a multiple of `stride` with
  // padding_value, then stacking: [n_frames, bins] -> [ceil(n / stride), stride * bins].
  // Needs at least 2 frames (the unbiased variance of one frame is 0/0 upstream).
  Tensor input_features(const Tensor& log_mel, ConstantBins constant_bins = ConstantBins::Reference) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace reference {
// One frame's log-mel energies straight from the definitions in double, with a direct
// O(N^2) DFT instead of FFTW (the twin FbankExtractor::log_mel is tested against).
std::vector<double> log_mel_frame(const FbankExtractor& fx, std::span<const float> wave, std::int64_t frame);
}  // namespace reference

}  // namespace tribev2::features::audio
