// Upstream's Wav2VecBert extractor (neuralset, reference-semantics 1.3 and 3): an Audio event
// is cut into 60 s chunks (ChunkEvents); each chunk is read, resampled to 16 kHz, mixed to
// mono, z-scored, turned into fbank features and run through w2v-BERT; the hidden states are
// averaged over the layer groups of [0.5, 0.75, 1.0] (group_mean) and resampled to
// round(2 * duration) bins with PyTorch's nearest rule; the chunks are then placed on the 2 Hz
// segment grid with neuralset's TimedArray slice rules (features/timeline.hpp).
//
// Entry points, from the lowest level up:
//   layer_groups, nearest_indices          the index rules
//   chunk_features(buffer)                 one chunk's samples -> [groups, hidden, n_out]
//   extract_chunks(path | buffer)          an Audio event -> per-chunk features (through a ChunkStore)
//   place_on_grid(chunks, start, duration) -> [groups, hidden, max(1, round(2 * duration))]
//   extract_timeline(path | buffer, window) everything at once (what `tribev2 audio-features`
//                                           and the pipeline call)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/events/chunks.hpp"
#include "tribev2/features/audio/fbank.hpp"
#include "tribev2/features/audio/w2v_bert.hpp"
#include "tribev2/features/chunk_store.hpp"
#include "tribev2/features/layer_groups.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::features::audio {

struct AudioFeatureOptions {
  std::vector<double> layers = {0.5, 0.75, 1.0};  // data.layers_to_use (group_mean bounds)
  double frequency = 2.0;                          // output bins per second
  double max_chunk = 60.0;                         // ChunkEvents(max_duration, min_duration)
  double min_chunk = 30.0;
  ConstantBins constant_bins = ConstantBins::Reference;  // see fbank.hpp and docs/audio-features.md
  // Per-chunk find-or-compute (chunk_store.hpp): the commands pass the pipeline's stage
  // cache; empty: every chunk is computed.
  ChunkStore store;
  // (work done, total work) in conformer layers over all chunks; cached chunks count as done.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

// group_mean over the hidden states: the shared rule (features/layer_groups.hpp). For 25
// states and [0.5, 0.75, 1.0]: [12, 18), [18, 25).
using features::layer_groups;

// F.interpolate(mode="nearest") source indices for in -> out bins:
// min(floor(float32(k) * (float32(in) / float32(out))), in - 1), in float32.
std::vector<std::int64_t> nearest_indices(std::int64_t in, std::int64_t out);

// group_mean of hidden states fed one at a time (as the model produces them): the float32
// sum of each group's states in layer order, divided by the group size (numpy's mean over
// the layer axis). result() is [groups, hidden, T].
class GroupMeanAccumulator {
 public:
  GroupMeanAccumulator(std::vector<std::pair<int, int>> groups, std::int64_t T, std::int64_t hidden);
  void add(int index, const float* hidden_state);  // [T, hidden] rows
  Tensor result() const;

 private:
  std::vector<std::pair<int, int>> groups_;
  std::int64_t T_, H_;
  std::vector<float> acc_;  // [groups, T, hidden]
};

// Columns of x [groups, hidden, T] picked by nearest_indices(T, n_out): [groups, hidden, n_out].
Tensor resample_nearest(const Tensor& x, std::int64_t n_out);

// Intermediate stages of one chunk, for tests and --dump (all optional outputs).
struct ChunkStages {
  std::vector<float> waveform_16k;   // [N16, C]
  std::vector<float> waveform_norm;  // [N16]
  Tensor log_mel;                    // [n_frames, bins]
  Tensor input_features;             // [T50, stride * bins]
  Tensor grouped;                    // [groups, hidden, T50]
  std::vector<std::int64_t> interp_index;  // [n_out]
};

// One chunk: samples at any rate/channel count -> [groups, hidden, n_out] float32 with
// n_out = round(frequency * duration), duration = frames / rate unless given (>= 0; the
// chunk event's duration). Clear errors for audio too short to give a frame or a bin.
Tensor chunk_features(const Context& ctx, const W2vBertModel& model, const FbankExtractor& fbank,
                      const media::AudioBuffer& samples, const AudioFeatureOptions& options, double duration = -1.0,
                      ChunkStages* stages = nullptr, const std::function<void(int, int)>& layer_progress = {});

struct AudioChunkFeatures {
  events::Chunk chunk;   // timeline start, offset into the audio, duration
  Tensor features;       // [groups, hidden, round(frequency * chunk.duration)]
  bool from_store = false;  // found in the ChunkStore
};

// An Audio event starting at `event_start` on the timeline and covering the whole file (or
// buffer): chunked with ChunkEvents, each chunk read like soundfile.read(start =
// round(offset * rate), frames = round(duration * rate)). The file is decoded chunk after
// chunk (its length is counted first: what soundfile.info reports). `source_id` names a
// buffer in the cache key (e.g. the video it came from); the buffer's samples are hashed too.
std::vector<AudioChunkFeatures> extract_chunks(const Context& ctx, const W2vBertModel& model,
                                               const std::filesystem::path& audio, double event_start,
                                               const AudioFeatureOptions& options);
std::vector<AudioChunkFeatures> extract_chunks(const Context& ctx, const W2vBertModel& model,
                                               const media::AudioBuffer& audio, double event_start,
                                               const AudioFeatureOptions& options,
                                               const std::string& source_id = "buffer");

// The chunks summed onto the grid of the window [start, start + duration):
// [groups, hidden, max(1, round(frequency * duration))]; bins no chunk covers stay 0.
Tensor place_on_grid(std::span<const AudioChunkFeatures> chunks, double start, double duration,
                     double frequency = 2.0);

// Where the audio sits on the timeline and which window of the 2 Hz grid to return.
struct TimelineWindow {
  double event_start = 0.0;  // timeline time of the audio's first sample
  double start = std::numeric_limits<double>::quiet_NaN();  // NaN: event_start
  double duration = -1.0;    // < 0: the audio's duration (frames / rate)
};

Tensor extract_timeline(const Context& ctx, const W2vBertModel& model, const std::filesystem::path& audio,
                        const TimelineWindow& window, const AudioFeatureOptions& options);
Tensor extract_timeline(const Context& ctx, const W2vBertModel& model, const media::AudioBuffer& audio,
                        const TimelineWindow& window, const AudioFeatureOptions& options,
                        const std::string& source_id = "buffer");

}  // namespace tribev2::features::audio
