// The waveform half of upstream's audio path (reference-semantics 3.1, steps 2-4; fixtures
// README audio_features stages 1-2): julius 0.2.7 ResampleFrac to 16 kHz on every channel,
// mean over channels after resampling, z-score with the unbiased std + 1e-8.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tribev2/core/context.hpp"

namespace tribev2::features::audio {

// julius.resample.ResampleFrac(old_sr, new_sr, zeros, rolloff) as julius 0.2.7 computes it:
// rates divided by their gcd; cutoff = min(old, new) * rolloff; width = ceil(zeros * old /
// cutoff); one windowed-sinc kernel of 2 * width + old taps per output phase, built in
// float32 (t = (-p/new + k/old) * cutoff clamped to +-zeros, times pi; window cos(t/zeros/2)^2;
// normalised to sum 1); the signal is edge-padded (width left, width + old right) and
// y[l * new + p] = sum_j kernel_p[j] * xpad[l * old + j].
class ResampleFrac {
 public:
  ResampleFrac(int old_sr, int new_sr, int zeros = 24, double rolloff = 0.945);

  int old_rate() const { return old_; }   // after the gcd reduction
  int new_rate() const { return new_; }
  int width() const { return width_; }
  int zeros() const { return zeros_; }
  double rolloff() const { return rolloff_; }
  bool identity() const { return old_ == new_; }
  std::int64_t taps() const { return 2 * static_cast<std::int64_t>(width_) + old_; }
  std::span<const float> kernel(int phase) const;

  // julius 0.2.7's length: floor(float32(new * n / old)). The float32 rounding can give one
  // sample more than the exact floor (44.1 kHz, 540451 samples -> 196082).
  std::int64_t output_length(std::int64_t n) const;

  // y[output_length(n)] (element stride y_stride) from x[n] (stride x_stride); n >= 1.
  void apply(const Context& ctx, const float* x, std::int64_t n, std::int64_t x_stride, float* y,
             std::int64_t y_stride) const;

 private:
  int old_ = 1, new_ = 1, zeros_ = 24, width_ = 0;
  double rolloff_ = 0.945;
  std::vector<float> kernels_;  // [new, taps]
};

// Every channel of interleaved x [n, channels] resampled from `rate` to `target` Hz:
// [output_length(n), channels] interleaved (a copy when the rates are equal).
std::vector<float> resample_channels(const Context& ctx, std::span<const float> x, int channels, int rate,
                                     int target = 16000);

// Mean over channels ([n, channels] -> [n], float32 sum in channel order / channels), then
// (x - mean) / (1e-8 + std) with the unbiased std (torch's x.std()), in float32. A constant
// signal (digital silence) becomes all zeros. Needs n >= 2.
std::vector<float> mono_zscore(std::span<const float> x, int channels);

namespace reference {
// The resampler evaluated per output sample straight from the formula, in double (the twin
// ResampleFrac::apply is tested against).
std::vector<double> resample(const ResampleFrac& r, std::span<const float> x);
}  // namespace reference

}  // namespace tribev2::features::audio
