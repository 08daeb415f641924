// Which frames upstream's HuggingFaceVideo feeds V-JEPA2 for each 2 Hz bin of a Video event
// (reference-semantics 4.1; tests/fixtures/README.md video_features stage 1):
//   n = round(2 * duration); video_duration = (offset + duration) - offset (moviepy subclip);
//   t_k = linspace(0, video_duration, n + 1)[1:]  (bin ends; the last one exactly video_duration)
//   for j = 63..0, s = (j / 64) * 4: tau = max(0, t_k - s)   (16 fps over the 4 s before t_k,
//   clamped to the chunk start), read at file time tau + offset.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace tribev2::features::video {

struct SamplingOptions {
  int frames_per_clip = 64;     // V-JEPA2's maximum (the processor config has num_frames=None)
  double clip_duration = 4.0;   // HuggingFaceVideo.clip_duration
  double frequency = 2.0;       // feature frequency (Hz)
};

// Number of bins of an event: round(frequency * duration), half to even.
std::int64_t n_bins(double duration, const SamplingOptions& o = {});

// Bin end times relative to the event start: numpy linspace(0, video_duration, n + 1)[1:].
std::vector<double> bin_end_times(double offset, double duration, const SamplingOptions& o = {});

// File times (seconds) of the frames of every bin: [n_bins][frames_per_clip], oldest first.
std::vector<std::vector<double>> frame_times(double offset, double duration, const SamplingOptions& o = {});

// Frame indices with a time -> index rule (e.g. media::VideoReader::frame_index_at).
std::vector<std::vector<std::int64_t>> frame_indices(double offset, double duration,
                                                     const std::function<std::int64_t(double)>& index_at,
                                                     const SamplingOptions& o = {});

// Frame indices with moviepy's rule min(int(fps * t + 1e-5), n_frames - 1).
std::vector<std::vector<std::int64_t>> frame_indices(double offset, double duration, double fps,
                                                     std::int64_t n_frames, const SamplingOptions& o = {});

}  // namespace tribev2::features::video
