// Upstream's video feature extractor (HuggingFaceVideo + V-JEPA2, reference-semantics 4):
// per Video event (a 60 s chunk of the file), for every 2 Hz bin the 64 frames of the 4 s
// before the bin end -> processor -> encoder -> the 41 hidden states sub-selected to 20 at
// round(linspace(0, 40, 20)) -> mean over all tokens: [20, hidden, n_bins] (what upstream
// caches). Read-out: group_mean over the layer fractions [0.5, 0.75, 1.0] -> [2, hidden, n]
// placed on a segment's 2 Hz grid with neuralset's TimedArray rules (features/timeline).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/events/chunks.hpp"
#include "tribev2/features/layer_groups.hpp"
#include "tribev2/features/video/preprocess.hpp"
#include "tribev2/features/chunk_store.hpp"
#include "tribev2/features/video/sampling.hpp"
#include "tribev2/features/video/vjepa2.hpp"
#include "tribev2/media/video.hpp"

namespace tribev2::features::video {

struct VideoFeatureOptions {
  SamplingOptions sampling;                         // 64 frames over 4 s per bin, 2 Hz
  ResizeKernel resize = ResizeKernel::Float;        // see docs/video-features.md
  media::VfrPolicy vfr = media::VfrPolicy::Timestamps;
  int cache_n_layers = 20;                          // sub-selected hidden states (upstream: 20)
  std::vector<double> layers = {0.5, 0.75, 1.0};    // data.layers_to_use -> group_mean bounds
  double chunk_max_duration = 60.0;                 // ChunkEvents(max_duration=60, min_duration=30)
  double chunk_min_duration = 30.0;
  // Per-chunk find-or-compute of the group means (chunk_store.hpp): the commands pass the
  // pipeline's stage cache; empty: every chunk is computed (and its layers kept).
  ChunkStore store;
  // Called after every bin: (bins done, bins in total). Stored chunks count as done at once.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

// The hidden-state sub-selection and group_mean bounds: the rule shared by the three
// extractors (features/layer_groups.hpp).
using features::group_bounds;
using features::layer_selection;
// [L, D, n] -> [groups, D, n]: group g = mean of layers [bounds[g], bounds[g + 1]) (float32).
Tensor group_mean(const Tensor& layers, const std::vector<double>& fractions);

// Frames by index and the time -> index rule (media::VideoReader, or frames in memory).
struct FrameSource {
  std::function<std::int64_t(double)> index_at;
  std::function<Tensor(std::int64_t)> frame;  // RGB uint8 [H, W, 3]
};
FrameSource frame_source(media::VideoReader& reader);

// One Video event (offset into the file, duration): the cached array [cache_n_layers, hidden,
// n_bins], n_bins = round(2 * duration).
Tensor extract_event_layers(const Context& ctx, const VJEPA2Model& model, const FrameSource& frames, double offset,
                            double duration, const VideoFeatureOptions& options = {});
// The model input of one bin: pixel_values [frames, 3, crop, crop] float32 (the tests compare
// it with pixel_values_bin0.npy) and the resized crops [frames, 3, crop, crop] uint8.
Tensor bin_pixel_values(const VJEPA2Model& model, const FrameSource& frames, const std::vector<std::int64_t>& indices,
                        const VideoFeatureOptions& options = {}, Tensor* crops = nullptr);

struct ChunkFeatures {
  events::Chunk chunk;  // start on the timeline, offset into the file, duration
  Tensor layers;        // [cache_n_layers, hidden, n_bins]; empty when the chunk came from the store
  Tensor grouped;       // [groups, hidden, n_bins]
  bool from_store = false;
};

// The file as upstream's events see it: one Video event from `start` (duration from moviepy's
// rule, media::VideoInfo::duration) split by ChunkEvents; every chunk extracted (or its group
// means found in options.store).
std::vector<ChunkFeatures> extract_chunks(const Context& ctx, const VJEPA2Model& model,
                                          const std::filesystem::path& video, const VideoFeatureOptions& options = {},
                                          double start = 0.0, double* duration_out = nullptr);

// neuralset's segment read-out: the chunks' grouped arrays summed onto the grid of the segment
// [seg_start, seg_start + seg_dur): [groups, hidden, max(1, round(2 * seg_dur))].
Tensor segment_features(const std::vector<ChunkFeatures>& chunks, double seg_start, double seg_dur,
                        double frequency = 2.0);

// Everything for `tribev2 video-features` and `tribev2 run`: the whole video on one 2 Hz grid
// from t = 0, [groups, hidden, max(1, round(2 * duration))] (= segment_features(chunks, 0,
// duration)); `duration_out` receives the video duration used.
Tensor extract_timeline(const Context& ctx, const VJEPA2Model& model, const std::filesystem::path& video,
                        const VideoFeatureOptions& options = {}, double* duration_out = nullptr);

}  // namespace tribev2::features::video
