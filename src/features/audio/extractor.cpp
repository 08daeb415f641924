#include "tribev2/features/audio/extractor.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "tribev2/core/error.hpp"
#include "tribev2/io/hash.hpp"
#include "tribev2/features/audio/waveform.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::features::audio {

namespace fs = std::filesystem;

namespace {

constexpr int kModelRate = 16000;

}  // namespace

std::vector<std::int64_t> nearest_indices(std::int64_t in, std::int64_t out) {
  TRIBEV2_CHECK(in >= 1 && out >= 1, "nearest resampling: sizes must be positive (", in, " -> ", out, ")");
  std::vector<std::int64_t> idx(static_cast<std::size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (std::int64_t k = 0; k < out; ++k) {
    std::int64_t src;
    if (out == in)
      src = k;
    else if (out == 2 * in)
      src = k >> 1;
    else
      src = std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(k) * scale)), in - 1);
    idx[static_cast<std::size_t>(k)] = src;
  }
  return idx;
}

GroupMeanAccumulator::GroupMeanAccumulator(std::vector<std::pair<int, int>> groups, std::int64_t T,
                                           std::int64_t hidden)
    : groups_(std::move(groups)), T_(T), H_(hidden) {
  acc_.assign(static_cast<std::size_t>(static_cast<std::int64_t>(groups_.size()) * T_ * H_), 0.0f);
}

void GroupMeanAccumulator::add(int index, const float* h) {
  const std::int64_t n = T_ * H_;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (index < groups_[g].first || index >= groups_[g].second) continue;
    float* a = acc_.data() + static_cast<std::int64_t>(g) * n;
    for (std::int64_t i = 0; i < n; ++i) a[i] += h[i];
  }
}

Tensor GroupMeanAccumulator::result() const {
  const auto G = static_cast<std::int64_t>(groups_.size());
  Tensor out = Tensor::empty(DType::F32, {G, H_, T_});
  float* o = out.data<float>();
  for (std::int64_t g = 0; g < G; ++g) {
    const auto count = static_cast<float>(groups_[static_cast<std::size_t>(g)].second - groups_[static_cast<std::size_t>(g)].first);
    const float* a = acc_.data() + g * T_ * H_;
    for (std::int64_t t = 0; t < T_; ++t)
      for (std::int64_t c = 0; c < H_; ++c) o[(g * H_ + c) * T_ + t] = a[t * H_ + c] / count;
  }
  return out;
}

Tensor resample_nearest(const Tensor& x, std::int64_t n_out) {
  TRIBEV2_CHECK(x.dtype() == DType::F32 && x.ndim() == 3, "nearest resampling: expected float32 [groups, hidden, T], got ",
                shape_str(x.shape()));
  const std::int64_t rows = x.dim(0) * x.dim(1), T = x.dim(2);
  const auto idx = nearest_indices(T, n_out);
  Tensor out = Tensor::empty(DType::F32, {x.dim(0), x.dim(1), n_out});
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < n_out; ++k) dst[r * n_out + k] = src[r * T + idx[static_cast<std::size_t>(k)]];
  return out;
}

Tensor chunk_features(const Context& ctx, const W2vBertModel& model, const FbankExtractor& fbank,
                      const media::AudioBuffer& samples, const AudioFeatureOptions& options, double duration,
                      ChunkStages* stages, const std::function<void(int, int)>& layer_progress) {
  TRIBEV2_CHECK(samples.sample_rate > 0 && samples.channels > 0, "audio chunk: invalid buffer (",
                samples.sample_rate, " Hz, ", samples.channels, " channels)");
  const std::int64_t frames = samples.frames();
  if (duration < 0.0) duration = samples.duration();
  const auto n_out = static_cast<std::int64_t>(py_round(options.frequency * duration));
  TRIBEV2_CHECK(n_out >= 1, "audio chunk of ", duration, " s gives round(", options.frequency, " x ", duration,
                ") = 0 feature bins (upstream's interpolation fails there); audio must last at least ",
                0.5 / options.frequency, " s");
  TRIBEV2_CHECK(frames >= 2, "audio chunk has ", frames, " sample frame(s); too short to extract features");

  std::vector<float> wave16 = resample_channels(ctx, samples.samples, samples.channels, samples.sample_rate, kModelRate);
  std::vector<float> norm = mono_zscore(wave16, samples.channels);
  if (stages) stages->waveform_16k = std::move(wave16);
  const auto n16 = static_cast<std::int64_t>(norm.size());
  TRIBEV2_CHECK(fbank_frame_count(n16) >= 2, "audio chunk of ", n16, " samples at 16 kHz (", n16 / 16000.0,
                " s) gives ", fbank_frame_count(n16), " fbank frame(s); at least 2 are needed (560 samples, 35 ms)");
  Tensor logmel = fbank.log_mel(ctx, norm);
  Tensor feats = fbank.input_features(logmel, options.constant_bins);
  if (stages) {
    stages->waveform_norm = std::move(norm);
    stages->log_mel = logmel;
    stages->input_features = feats;
  }

  const auto& cfg = model.config();
  GroupMeanAccumulator groups(layer_groups(model.num_hidden_states(), options.layers), feats.dim(0), cfg.hidden);
  model.forward(
      ctx, feats, [&](int index, const float* h, std::int64_t) { groups.add(index, h); }, layer_progress);
  const Tensor grouped = groups.result();
  Tensor out = resample_nearest(grouped, n_out);
  if (stages) {
    stages->grouped = grouped;
    stages->interp_index = nearest_indices(grouped.dim(2), n_out);
  }
  return out;
}

namespace {

// Reads one chunk's samples; called at most once per chunk, in chunk order.
using ChunkReader = std::function<media::AudioBuffer(std::int64_t first, std::int64_t count)>;

std::vector<AudioChunkFeatures> run_chunks(const Context& ctx, const W2vBertModel& model,
                                           const AudioFeatureOptions& options, int sample_rate, std::int64_t total_frames, double event_start,
                                           const ChunkReader& read, const std::string& source_name) {
  TRIBEV2_CHECK(total_frames >= 1, source_name, ": no audio samples");
  const double duration = static_cast<double>(total_frames) / sample_rate;
  const auto chunks = events::chunk_event(event_start, 0.0, duration, options.max_chunk, options.min_chunk);
  const FbankExtractor fbank(model.preprocessor());
  const int layers = model.config().layers;
  const auto total_work = static_cast<std::int64_t>(chunks.size()) * layers;
  std::int64_t done = 0;
  if (options.progress) options.progress(0, total_work);

  std::vector<AudioChunkFeatures> out;
  const auto groups = static_cast<std::int64_t>(layer_groups(model.num_hidden_states(), options.layers).size());
  for (const auto& ch : chunks) {
    const auto first = static_cast<std::int64_t>(std::nearbyint(ch.offset * sample_rate));
    const auto count = static_cast<std::int64_t>(std::nearbyint(ch.duration * sample_rate));
    const auto n_out = static_cast<std::int64_t>(py_round(options.frequency * ch.duration));
    AudioChunkFeatures r;
    r.chunk = ch;
    const std::int64_t base = done;
    const auto compute = [&] {
      const media::AudioBuffer buf = read(first, count);
      return chunk_features(ctx, model, fbank, buf, options, ch.duration, nullptr, [&](int d, int) {
        if (options.progress) options.progress(base + d, total_work);
      });
    };
    if (options.store) {
      StoredChunk got = options.store(ch, compute);
      const Shape want{groups, model.config().hidden, n_out};
      TRIBEV2_CHECK(got.data.dtype() == DType::F32 && got.data.shape() == want,
                    source_name, ": the feature store returned ", shape_str(got.data.shape()), " for the chunk [",
                    ch.offset, ", +", ch.duration, ") s, expected [", groups, ", ", model.config().hidden, ", ", n_out, "]");
      r.features = std::move(got.data);
      r.from_store = !got.computed;
    } else {
      r.features = compute();
    }
    done += layers;
    if (options.progress) options.progress(done, total_work);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<AudioChunkFeatures> extract_chunks(const Context& ctx, const W2vBertModel& model, const fs::path& audio,
                                               double event_start, const AudioFeatureOptions& options) {
  // soundfile.info(...).frames: the decoded length.
  const std::int64_t total = media::count_audio_frames(audio);
  media::AudioReader reader(audio);
  return run_chunks(ctx, model, options, reader.sample_rate(), total, event_start,
                    [&](std::int64_t first, std::int64_t count) { return reader.read(first, count); }, audio.string());
}

std::vector<AudioChunkFeatures> extract_chunks(const Context& ctx, const W2vBertModel& model,
                                               const media::AudioBuffer& audio, double event_start,
                                               const AudioFeatureOptions& options, const std::string& source_id) {
  TRIBEV2_CHECK(audio.sample_rate > 0 && audio.channels > 0 &&
                    audio.samples.size() % static_cast<std::size_t>(audio.channels) == 0,
                source_id, ": invalid audio buffer (", audio.sample_rate, " Hz, ", audio.channels, " channels, ",
                audio.samples.size(), " samples)");
  const std::int64_t total = audio.frames();
  return run_chunks(ctx, model, options, audio.sample_rate, total, event_start,
                    [&](std::int64_t first, std::int64_t count) {
                      media::AudioBuffer b;
                      b.sample_rate = audio.sample_rate;
                      b.channels = audio.channels;
                      const std::int64_t a = std::clamp<std::int64_t>(first, 0, total);
                      const std::int64_t e = std::clamp<std::int64_t>(first + count, a, total);
                      b.samples.assign(audio.samples.begin() + a * audio.channels,
                                       audio.samples.begin() + e * audio.channels);
                      return b;
                    },
                    source_id);
}

Tensor place_on_grid(std::span<const AudioChunkFeatures> chunks, double start, double duration, double frequency) {
  TRIBEV2_CHECK(std::isfinite(start) && std::isfinite(duration) && duration >= 0.0,
                "audio grid: bad window [", start, ", +", duration, ")");
  TRIBEV2_CHECK(!chunks.empty(), "audio grid: no chunks");
  const Tensor& f0 = chunks.front().features;
  TRIBEV2_CHECK(f0.ndim() == 3, "audio grid: chunk features must be [groups, hidden, n]");
  const std::int64_t G = f0.dim(0), H = f0.dim(1);
  const std::int64_t T = segment_bins(duration, frequency);
  Tensor out = Tensor::zeros(DType::F32, {G, H, T});
  for (const auto& c : chunks) {
    TRIBEV2_CHECK(c.features.ndim() == 3 && c.features.dim(0) == G && c.features.dim(1) == H,
                  "audio grid: chunks disagree in shape (", shape_str(f0.shape()), " vs ", shape_str(c.features.shape()),
                  ")");
    add_array(out.data<float>(), G * H, T, start, c.features.data<float>(), c.features.dim(2), c.chunk.start, frequency);
  }
  return out;
}

namespace {

Tensor timeline_from_chunks(const std::vector<AudioChunkFeatures>& chunks, const TimelineWindow& w,
                            const AudioFeatureOptions& options) {
  const auto& last = chunks.back().chunk;
  const double audio_duration = last.offset + last.duration;
  const double start = std::isnan(w.start) ? w.event_start : w.start;
  const double duration = w.duration < 0.0 ? audio_duration : w.duration;
  return place_on_grid(chunks, start, duration, options.frequency);
}

}  // namespace

Tensor extract_timeline(const Context& ctx, const W2vBertModel& model, const fs::path& audio,
                        const TimelineWindow& window, const AudioFeatureOptions& options) {
  return timeline_from_chunks(extract_chunks(ctx, model, audio, window.event_start, options), window, options);
}

Tensor extract_timeline(const Context& ctx, const W2vBertModel& model, const media::AudioBuffer& audio,
                        const TimelineWindow& window, const AudioFeatureOptions& options,
                        const std::string& source_id) {
  return timeline_from_chunks(extract_chunks(ctx, model, audio, window.event_start, options, source_id), window,
                              options);
}

}  // namespace tribev2::features::audio
