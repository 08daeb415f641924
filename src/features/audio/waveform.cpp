#include "tribev2/features/audio/waveform.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tribev2/core/error.hpp"

namespace tribev2::features::audio {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

ResampleFrac::ResampleFrac(int old_sr, int new_sr, int zeros, double rolloff) : zeros_(zeros), rolloff_(rolloff) {
  TRIBEV2_CHECK(old_sr > 0 && new_sr > 0, "resample: sample rates must be positive integers, got ", old_sr, " -> ",
                new_sr);
  TRIBEV2_CHECK(zeros > 0 && rolloff > 0.0 && rolloff <= 1.0, "resample: bad zeros/rolloff (", zeros, ", ", rolloff,
                ")");
  const int g = std::gcd(old_sr, new_sr);
  old_ = old_sr / g;
  new_ = new_sr / g;
  if (old_ == new_) return;
  // Reduced rates this large would mean a kernel bank of new * (2 * width + old) floats.
  TRIBEV2_CHECK(static_cast<double>(new_) * (3.0 * old_ + 100.0) < 6.4e7, "resample: ", old_sr, " -> ", new_sr,
                " Hz reduces to ", old_, "/", new_, ", too large a ratio for julius' fractional resampler");
  const double cutoff = std::min(old_, new_) * rolloff;  // Python float: min(new, old) * rolloff
  width_ = static_cast<int>(std::ceil(zeros * static_cast<double>(old_) / cutoff));
  const std::int64_t n = taps();
  kernels_.resize(static_cast<std::size_t>(new_ * n));
  // julius 0.2.7 builds the kernels with float32 tensors; Python scalars join as float32.
  const float cutoff_f = static_cast<float>(cutoff);
  const float pi_f = static_cast<float>(kPi);
  const float zeros_f = static_cast<float>(zeros);
  const float old_f = static_cast<float>(old_);
  for (int p = 0; p < new_; ++p) {
    float* k = kernels_.data() + static_cast<std::size_t>(p) * n;
    const float shift = static_cast<float>(-static_cast<double>(p) / new_);
    double sum = 0.0;
    for (std::int64_t j = 0; j < n; ++j) {
      const float idx = static_cast<float>(j - width_);
      float t = (shift + idx / old_f) * cutoff_f;
      t = std::clamp(t, -zeros_f, zeros_f);
      t *= pi_f;
      const float c = std::cos(t / zeros_f / 2.0f);
      const float window = c * c;
      const float sinc = t == 0.0f ? 1.0f : std::sin(t) / t;
      k[j] = sinc * window;
      sum += k[j];
    }
    const auto s = static_cast<float>(sum);
    for (std::int64_t j = 0; j < n; ++j) k[j] /= s;
  }
}

std::span<const float> ResampleFrac::kernel(int phase) const {
  TRIBEV2_CHECK(!identity() && phase >= 0 && phase < new_, "resample: no kernel for phase ", phase);
  return {kernels_.data() + static_cast<std::size_t>(phase) * static_cast<std::size_t>(taps()),
          static_cast<std::size_t>(taps())};
}

std::int64_t ResampleFrac::output_length(std::int64_t n) const {
  if (identity()) return n;
  // Python: new * n / old (float64), then torch.as_tensor -> float32, then floor.
  const double q = static_cast<double>(new_) * static_cast<double>(n) / static_cast<double>(old_);
  return static_cast<std::int64_t>(std::floor(static_cast<float>(q)));
}

void ResampleFrac::apply(const Context& ctx, const float* x, std::int64_t n, std::int64_t x_stride, float* y,
                         std::int64_t y_stride) const {
  TRIBEV2_CHECK(n >= 1, "resample: empty input");
  const std::int64_t out_n = output_length(n);
  if (identity()) {
    for (std::int64_t i = 0; i < n; ++i) y[i * y_stride] = x[i * x_stride];
    return;
  }
  const std::int64_t ntaps = taps();
  const std::int64_t w = width_;
  // Output block l covers samples [l * new, (l + 1) * new) and reads xpad[l * old, + taps).
  const std::int64_t blocks = (out_n + new_ - 1) / new_;
  ctx.pool().parallel_for(
      blocks,
      [&](std::int64_t b0, std::int64_t b1) {
        std::vector<float> window(static_cast<std::size_t>(ntaps));
        for (std::int64_t l = b0; l < b1; ++l) {
          const std::int64_t base = l * old_ - w;  // index into x of xpad[l * old]
          for (std::int64_t j = 0; j < ntaps; ++j)
            window[static_cast<std::size_t>(j)] = x[std::clamp<std::int64_t>(base + j, 0, n - 1) * x_stride];
          const std::int64_t p_end = std::min<std::int64_t>(new_, out_n - l * new_);
          for (std::int64_t p = 0; p < p_end; ++p) {
            const float* k = kernels_.data() + p * ntaps;
            double acc = 0.0;
            for (std::int64_t j = 0; j < ntaps; ++j) acc += static_cast<double>(k[j]) * window[static_cast<std::size_t>(j)];
            y[(l * new_ + p) * y_stride] = static_cast<float>(acc);
          }
        }
      },
      std::max<std::int64_t>(1, 4096 / new_));
}

std::vector<float> resample_channels(const Context& ctx, std::span<const float> x, int channels, int rate,
                                     int target) {
  TRIBEV2_CHECK(channels > 0 && x.size() % static_cast<std::size_t>(channels) == 0, "resample: ", x.size(),
                " samples is not a multiple of ", channels, " channels");
  const auto n = static_cast<std::int64_t>(x.size()) / channels;
  TRIBEV2_CHECK(n >= 1, "resample: no samples");
  const ResampleFrac r(rate, target);
  const std::int64_t out_n = r.output_length(n);
  std::vector<float> y(static_cast<std::size_t>(out_n * channels));
  for (int c = 0; c < channels; ++c) r.apply(ctx, x.data() + c, n, channels, y.data() + c, channels);
  return y;
}

std::vector<float> mono_zscore(std::span<const float> x, int channels) {
  TRIBEV2_CHECK(channels > 0 && x.size() % static_cast<std::size_t>(channels) == 0, "z-score: ", x.size(),
                " samples is not a multiple of ", channels, " channels");
  const auto n = x.size() / static_cast<std::size_t>(channels);
  TRIBEV2_CHECK(n >= 2, "z-score: need at least 2 samples, got ", n);
  std::vector<float> m(n);
  const auto cf = static_cast<float>(channels);
  for (std::size_t i = 0; i < n; ++i) {
    float s = 0.0f;
    for (int c = 0; c < channels; ++c) s += x[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)];
    m[i] = s / cf;
  }
  // torch computes mean and the unbiased std with wide accumulators; double here.
  double sum = 0.0;
  for (const float v : m) sum += v;
  const double mean = sum / static_cast<double>(n);
  double ss = 0.0;
  for (const float v : m) ss += (v - mean) * (v - mean);
  const auto mean_f = static_cast<float>(mean);
  const auto std_f = static_cast<float>(std::sqrt(ss / static_cast<double>(n - 1)));
  const float denom = 1e-8f + std_f;
  for (float& v : m) v = (v - mean_f) / denom;
  return m;
}

namespace reference {

std::vector<double> resample(const ResampleFrac& r, std::span<const float> x) {
  const auto n = static_cast<std::int64_t>(x.size());
  const std::int64_t out_n = r.output_length(n);
  std::vector<double> y(static_cast<std::size_t>(out_n));
  if (r.identity()) {
    for (std::int64_t i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)];
    return y;
  }
  const int o = r.old_rate(), nw = r.new_rate(), w = r.width();
  const double cutoff = std::min(o, nw) * r.rolloff();
  const double zeros = r.zeros();
  for (std::int64_t m = 0; m < out_n; ++m) {
    const std::int64_t l = m / nw, p = m % nw;
    double acc = 0.0, norm = 0.0;
    for (std::int64_t j = 0; j < r.taps(); ++j) {
      double t = (-static_cast<double>(p) / nw + static_cast<double>(j - w) / o) * cutoff;
      t = std::clamp(t, -zeros, zeros) * kPi;
      const double c = std::cos(t / zeros / 2.0);
      const double k = (t == 0.0 ? 1.0 : std::sin(t) / t) * c * c;
      const std::int64_t src = std::clamp<std::int64_t>(l * o + j - w, 0, n - 1);
      acc += k * x[static_cast<std::size_t>(src)];
      norm += k;
    }
    y[static_cast<std::size_t>(m)] = acc / norm;
  }
  return y;
}

}  // namespace reference

}  // namespace tribev2::features::audio
