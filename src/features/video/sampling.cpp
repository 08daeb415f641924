#include "tribev2/features/video/sampling.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/media/video_timing.hpp"

namespace tribev2::features::video {

std::int64_t n_bins(double duration, const SamplingOptions& o) {
  TRIBEV2_CHECK(std::isfinite(duration) && duration >= 0, "video event duration must be finite and >= 0, got ",
                duration);
  return static_cast<std::int64_t>(py_round(o.frequency * duration));
}

std::vector<double> bin_end_times(double offset, double duration, const SamplingOptions& o) {
  const std::int64_t n = n_bins(duration, o);
  const double video_duration = (offset + duration) - offset;
  std::vector<double> t(static_cast<std::size_t>(n));
  if (n == 0) return t;
  // numpy linspace(0, d, n + 1): step = d / n, y_k = k * step, y_n = d exactly.
  const double step = video_duration / static_cast<double>(n);
  for (std::int64_t k = 1; k <= n; ++k) t[static_cast<std::size_t>(k - 1)] = static_cast<double>(k) * step;
  t.back() = video_duration;
  return t;
}

std::vector<std::vector<double>> frame_times(double offset, double duration, const SamplingOptions& o) {
  TRIBEV2_CHECK(o.frames_per_clip > 0 && o.clip_duration > 0, "video sampling: frames_per_clip and clip_duration must be > 0");
  const auto ends = bin_end_times(offset, duration, o);
  std::vector<std::vector<double>> out;
  out.reserve(ends.size());
  for (const double t : ends) {
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(o.frames_per_clip));
    for (int j = o.frames_per_clip - 1; j >= 0; --j) {
      const double s = (static_cast<double>(j) / o.frames_per_clip) * o.clip_duration;
      const double tau = std::max(0.0, t - s);
      times.push_back(tau + offset);
    }
    out.push_back(std::move(times));
  }
  return out;
}

std::vector<std::vector<std::int64_t>> frame_indices(double offset, double duration,
                                                     const std::function<std::int64_t(double)>& index_at,
                                                     const SamplingOptions& o) {
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& times : frame_times(offset, duration, o)) {
    std::vector<std::int64_t> idx;
    idx.reserve(times.size());
    for (const double t : times) idx.push_back(index_at(t));
    out.push_back(std::move(idx));
  }
  return out;
}

std::vector<std::vector<std::int64_t>> frame_indices(double offset, double duration, double fps,
                                                     std::int64_t n_frames, const SamplingOptions& o) {
  return frame_indices(
      offset, duration, [&](double t) { return media::moviepy_frame_index(fps, t, n_frames); }, o);
}

}  // namespace tribev2::features::video
