#include "tribev2/events/chunks.hpp"

#include <cmath>

#include "tribev2/core/error.hpp"

namespace tribev2::events {

std::vector<Chunk> chunk_event(double start, double offset, double duration, double max_duration, double min_duration) {
  TRIBEV2_CHECK(std::isfinite(duration) && duration >= 0.0, "chunk_event: bad duration ", duration);
  TRIBEV2_CHECK(max_duration > 0.0 && min_duration >= 0.0, "chunk_event: bad chunk limits");
  // list_segments(stride=max, duration=max): window starts 0, max, 2 max, ... relative to the event.
  std::vector<double> points;
  for (double p = max_duration; p < duration; p += max_duration) points.push_back(p);
  // _split: keep points strictly inside (0, duration) that leave no piece shorter than min.
  std::vector<double> kept;
  double prev = 0.0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double p = points[i];
    if (p <= 0.0 || p >= duration) continue;
    if (p - prev < min_duration || duration - p < min_duration) continue;
    kept.push_back(p);
    prev = p;
  }
  std::vector<Chunk> out;
  double a = 0.0;
  kept.push_back(duration);
  for (double b : kept) {
    out.push_back({start + a, offset + a, b - a});
    a = b;
  }
  return out;
}

}  // namespace tribev2::events
