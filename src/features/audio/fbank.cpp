#include "tribev2/features/audio/fbank.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"

namespace tribev2::features::audio {

namespace {

constexpr int kFrameLength = 400;   // 25 ms at 16 kHz (HF hard-codes these for SeamlessM4T)
constexpr int kHop = 160;           // 10 ms
constexpr int kFftLength = 512;
constexpr int kBins = kFftLength / 2 + 1;
constexpr double kPreemphasis = 0.97;
constexpr double kMelFloor = 1.192092955078125e-07;
constexpr double kPi = 3.14159265358979323846;

double hz_to_mel_kaldi(double f) { return 1127.0 * std::log(1.0 + f / 700.0); }

// numpy.linspace(start, stop, num): arange(num) * step + start, the last value set to stop.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> y(static_cast<std::size_t>(num));
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) y[static_cast<std::size_t>(i)] = i * step + start;
  y.back() = stop;
  return y;
}

// FFTW's planner is not thread-safe (only fftw_execute is): plan creation and destruction
// are serialised on this mutex, which guards FFTW's own global state, not ours.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

struct FftwPlan {
  fftw_plan plan = nullptr;
  FftwPlan() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    double* in = fftw_alloc_real(kFftLength);
    fftw_complex* out = fftw_alloc_complex(kBins);
    if (in && out) plan = fftw_plan_dft_r2c_1d(kFftLength, in, out, FFTW_ESTIMATE);
    fftw_free(in);
    fftw_free(out);
    if (!plan) fail("fbank: FFTW could not plan a ", kFftLength, "-point real FFT");
  }
  ~FftwPlan() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(plan);
  }
  FftwPlan(const FftwPlan&) = delete;
  FftwPlan& operator=(const FftwPlan&) = delete;
};

struct FftwBuffers {
  double* in = fftw_alloc_real(kFftLength);
  fftw_complex* out = fftw_alloc_complex(kBins);
  FftwBuffers() {
    if (!in || !out) fail("fbank: out of memory");
  }
  ~FftwBuffers() {
    fftw_free(in);
    fftw_free(out);
  }
  FftwBuffers(const FftwBuffers&) = delete;
  FftwBuffers& operator=(const FftwBuffers&) = delete;
};

// Steps shared by the FFT path and the reference twin: frame `f` of the x32768-scaled
// waveform, DC removed, pre-emphasised, windowed, zero-padded to 512 (HF's spectrogram()).
void prepare_frame(std::span<const float> wave, std::int64_t f, const std::vector<double>& window, double* buf) {
  const float* src = wave.data() + f * kHop;
  double mean = 0.0;
  for (int i = 0; i < kFrameLength; ++i) {
    buf[i] = static_cast<double>(src[i] * 32768.0f);  // float32 product, then float64
    mean += buf[i];
  }
  mean /= kFrameLength;
  for (int i = 0; i < kFrameLength; ++i) buf[i] -= mean;
  for (int i = kFrameLength - 1; i >= 1; --i) buf[i] -= kPreemphasis * buf[i - 1];
  buf[0] *= 1.0 - kPreemphasis;
  for (int i = 0; i < kFrameLength; ++i) buf[i] *= window[static_cast<std::size_t>(i)];
  for (int i = kFrameLength; i < kFftLength; ++i) buf[i] = 0.0;
}

}  // namespace

FbankConfig FbankConfig::from_json_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const nlohmann::json j = io::read_json_object(path);
  FbankConfig c;
  auto get_int = [&](const char* key, int& dst) {
    if (!j.contains(key)) return;
    TRIBEV2_CHECK(j[key].is_number_integer(), name, ": ", key, ": expected an integer, got ", j[key].dump());
    dst = j[key].get<int>();
  };
  if (j.contains("feature_extractor_type")) {
    const auto& t = j["feature_extractor_type"];
    TRIBEV2_CHECK(t.is_string() && t.get<std::string>() == "SeamlessM4TFeatureExtractor", name,
                  ": feature_extractor_type: expected \"SeamlessM4TFeatureExtractor\", got ", t.dump());
  }
  get_int("num_mel_bins", c.num_mel_bins);
  int feature_size = c.num_mel_bins;
  get_int("feature_size", feature_size);
  get_int("sampling_rate", c.sampling_rate);
  get_int("stride", c.stride);
  if (j.contains("padding_value")) {
    TRIBEV2_CHECK(j["padding_value"].is_number(), name, ": padding_value: expected a number, got ",
                  j["padding_value"].dump());
    c.padding_value = j["padding_value"].get<float>();
  }
  TRIBEV2_CHECK(c.num_mel_bins >= 1 && c.num_mel_bins <= 256, name, ": num_mel_bins: expected 1..256, got ",
                c.num_mel_bins);
  TRIBEV2_CHECK(feature_size == c.num_mel_bins, name, ": feature_size (", feature_size, ") must equal num_mel_bins (",
                c.num_mel_bins, ")");
  TRIBEV2_CHECK(c.sampling_rate == 16000, name, ": sampling_rate: expected 16000 (the extractor's 400/160-sample ",
                "frames assume it), got ", c.sampling_rate);
  TRIBEV2_CHECK(c.stride >= 1 && c.stride <= 16, name, ": stride: expected 1..16, got ", c.stride);
  return c;
}

std::int64_t fbank_frame_count(std::int64_t n) { return n < kFrameLength ? 0 : 1 + (n - kFrameLength) / kHop; }

struct FbankExtractor::Impl {
  FbankConfig config;
  std::vector<double> window;   // [400]
  std::vector<double> mel;      // [257, bins], row k = FFT bin k
  FftwPlan plan;
};

FbankExtractor::FbankExtractor(const FbankConfig& config) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.config = config;
  TRIBEV2_CHECK(config.sampling_rate == 16000 && config.num_mel_bins >= 1 && config.stride >= 1,
                "fbank: unsupported configuration");
  // window_function(400, "povey", periodic=False) = np.hanning(400) ** 0.85 (symmetric).
  s.window.resize(kFrameLength);
  for (int i = 0; i < kFrameLength; ++i) {
    const double h = 0.5 - 0.5 * std::cos(2.0 * kPi * i / (kFrameLength - 1));
    s.window[static_cast<std::size_t>(i)] = std::pow(h, 0.85);
  }
  // mel_filter_bank(num_frequency_bins=256, num_mel_filters=bins, min 20, max sr // 2,
  // norm=None, mel_scale="kaldi", triangularize_in_mel_space=True), padded with a zero row
  // for the Nyquist bin.
  const int bins = config.num_mel_bins;
  const auto edges = linspace(hz_to_mel_kaldi(20.0), hz_to_mel_kaldi(config.sampling_rate / 2), bins + 2);
  const double bin_width = static_cast<double>(config.sampling_rate) / (256 * 2);
  s.mel.assign(static_cast<std::size_t>(kBins) * bins, 0.0);
  for (int k = 0; k < 256; ++k) {
    const double m = hz_to_mel_kaldi(bin_width * k);
    for (int j = 0; j < bins; ++j) {
      const double l = edges[static_cast<std::size_t>(j)], c = edges[static_cast<std::size_t>(j) + 1],
                   r = edges[static_cast<std::size_t>(j) + 2];
      const double down = -(l - m) / (c - l);
      const double up = (r - m) / (r - c);
      s.mel[static_cast<std::size_t>(k) * bins + static_cast<std::size_t>(j)] = std::max(0.0, std::min(down, up));
    }
  }
}

FbankExtractor::~FbankExtractor() = default;
FbankExtractor::FbankExtractor(FbankExtractor&&) noexcept = default;
FbankExtractor& FbankExtractor::operator=(FbankExtractor&&) noexcept = default;

const FbankConfig& FbankExtractor::config() const { return impl_->config; }
std::span<const double> FbankExtractor::mel_filters() const { return impl_->mel; }
std::span<const double> FbankExtractor::window() const { return impl_->window; }

Tensor FbankExtractor::log_mel(const Context& ctx, std::span<const float> wave) const {
  const Impl& s = *impl_;
  const auto n = static_cast<std::int64_t>(wave.size());
  const std::int64_t frames = fbank_frame_count(n);
  TRIBEV2_CHECK(frames >= 1, "fbank: ", n, " samples at 16 kHz is shorter than one 25 ms frame (", kFrameLength,
                " samples)");
  const int bins = s.config.num_mel_bins;
  Tensor out = Tensor::empty(DType::F32, {frames, bins});
  float* dst = out.data<float>();
  ctx.pool().parallel_for(
      frames,
      [&](std::int64_t f0, std::int64_t f1) {
        FftwBuffers buf;
        std::vector<double> power(kBins);
        for (std::int64_t f = f0; f < f1; ++f) {
          prepare_frame(wave, f, s.window, buf.in);
          fftw_execute_dft_r2c(s.plan.plan, buf.in, buf.out);
          for (int k = 0; k < kBins; ++k) {
            // numpy stores the rfft as complex64, then |X|**2 in float64.
            const auto re = static_cast<double>(static_cast<float>(buf.out[k][0]));
            const auto im = static_cast<double>(static_cast<float>(buf.out[k][1]));
            const double mag = std::hypot(re, im);
            power[static_cast<std::size_t>(k)] = mag * mag;
          }
          float* row = dst + f * bins;
          for (int j = 0; j < bins; ++j) {
            double e = 0.0;
            for (int k = 0; k < kBins; ++k)
              e += s.mel[static_cast<std::size_t>(k) * bins + static_cast<std::size_t>(j)] *
                   power[static_cast<std::size_t>(k)];
            row[j] = static_cast<float>(std::log(std::max(kMelFloor, e)));
          }
        }
      },
      16);
  return out;
}

Tensor FbankExtractor::input_features(const Tensor& log_mel, ConstantBins constant_bins) const {
  const Impl& s = *impl_;
  const int bins = s.config.num_mel_bins;
  TRIBEV2_CHECK(log_mel.dtype() == DType::F32 && log_mel.ndim() == 2 && log_mel.dim(1) == bins,
                "fbank: log-mel input must be float32 [frames, ", bins, "], got ", shape_str(log_mel.shape()));
  const std::int64_t n = log_mel.dim(0);
  TRIBEV2_CHECK(n >= 2, "fbank: ", n, " frame(s): per-bin normalisation needs at least 2 frames (",
                "about 35 ms of audio)");
  const float* x = log_mel.data<float>();
  // Per-bin CMVN exactly as numpy reduces axis 0 of a float32 array: float32 accumulators,
  // frames in order; mean = sum / n, var = sum((x - mean)^2) / (n - 1), then + 1e-7 (float32).
  std::vector<float> norm(static_cast<std::size_t>(n * bins));
  const auto nf = static_cast<float>(n);
  const auto nf1 = static_cast<float>(n - 1);
  for (int b = 0; b < bins; ++b) {
    float sum = 0.0f;
    bool constant = true;
    const float first = x[b];
    for (std::int64_t t = 0; t < n; ++t) {
      const float v = x[t * bins + b];
      sum += v;
      constant = constant && v == first;
    }
    const float mean = sum / nf;
    float ss = 0.0f;
    for (std::int64_t t = 0; t < n; ++t) {
      const float d = x[t * bins + b] - mean;
      ss += d * d;
    }
    const float var = ss / nf1;
    const float denom = std::sqrt(var + 1e-7f);
    const bool zero = constant && constant_bins == ConstantBins::Zero;
    for (std::int64_t t = 0; t < n; ++t)
      norm[static_cast<std::size_t>(t * bins + b)] = zero ? 0.0f : (x[t * bins + b] - mean) / denom;
  }
  // Pad to a multiple of the stride with padding_value, then stack consecutive frames.
  const int st = s.config.stride;
  const std::int64_t rows = (n + st - 1) / st;
  Tensor out = Tensor::empty(DType::F32, {rows, static_cast<std::int64_t>(st) * bins});
  float* o = out.data<float>();
  for (std::int64_t f = 0; f < rows * st; ++f) {
    float* dst = o + f * bins;  // frame f lands at row f / st, columns (f % st) * bins
    if (f < n)
      std::copy_n(norm.data() + f * bins, bins, dst);
    else
      std::fill_n(dst, bins, s.config.padding_value);
  }
  return out;
}

namespace reference {

std::vector<double> log_mel_frame(const FbankExtractor& fx, std::span<const float> wave, std::int64_t frame) {
  TRIBEV2_CHECK(frame >= 0 && frame < fbank_frame_count(static_cast<std::int64_t>(wave.size())),
                "fbank reference: frame ", frame, " out of range");
  std::vector<double> win(fx.window().begin(), fx.window().end());
  std::vector<double> buf(kFftLength);
  prepare_frame(wave, frame, win, buf.data());
  const int bins = fx.config().num_mel_bins;
  std::vector<double> power(kBins);
  for (int k = 0; k < kBins; ++k) {
    std::complex<double> acc = 0.0;
    for (int i = 0; i < kFftLength; ++i)
      acc += buf[static_cast<std::size_t>(i)] * std::polar(1.0, -2.0 * kPi * k * i / kFftLength);
    power[static_cast<std::size_t>(k)] = std::norm(acc);
  }
  std::vector<double> out(static_cast<std::size_t>(bins));
  const auto mel = fx.mel_filters();
  for (int j = 0; j < bins; ++j) {
    double e = 0.0;
    for (int k = 0; k < kBins; ++k)
      e += mel[static_cast<std::size_t>(k) * bins + static_cast<std::size_t>(j)] * power[static_cast<std::size_t>(k)];
    out[static_cast<std::size_t>(j)] = std::log(std::max(kMelFloor, e));
  }
  return out;
}

}  // namespace reference

}  // namespace tribev2::features::audio
