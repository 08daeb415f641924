#include "tribev2/features/timeline.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"

namespace tribev2::features {

double py_round(double x) { return std::nearbyint(x); }

std::int64_t segment_bins(double duration, double frequency) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(py_round(frequency * duration)));
}

std::optional<GridSlice> overlap_slice(double start, std::int64_t len, double frequency, double w_start, double w_dur) {
  TRIBEV2_CHECK(w_dur >= 0.0, "overlap_slice: negative window duration ", w_dur);
  const double duration = static_cast<double>(len) / frequency;
  const double ov0 = std::max(w_start, start);
  const double ov1 = std::min(w_start + w_dur, start + duration);
  if (ov1 < ov0) return std::nullopt;
  if (ov1 == ov0 && duration != 0.0 && w_dur != 0.0) return std::nullopt;
  if (len == 0) return std::nullopt;
  auto i0 = static_cast<std::int64_t>(py_round(frequency * (ov0 - start)));
  auto n = static_cast<std::int64_t>(py_round(frequency * (ov1 - ov0)));
  if (n <= 0) n = 1;
  if (i0 > len - n) i0 = len - n;
  TRIBEV2_CHECK(i0 >= 0, "overlap_slice: negative start index for window [", w_start, ", ", w_start + w_dur,
                ") on an array at ", start, " of ", len, " bins");
  return GridSlice{i0, n};
}

std::optional<GridSlice> add_array(float* buffer, std::int64_t channels, std::int64_t T, double buf_start,
                                   const float* array, std::int64_t len, double arr_start, double frequency) {
  const double buf_dur = static_cast<double>(T) / frequency;
  const double arr_dur = static_cast<double>(len) / frequency;
  const auto bs = overlap_slice(buf_start, T, frequency, arr_start, arr_dur);
  const auto as = overlap_slice(arr_start, len, frequency, buf_start, buf_dur);
  if (!bs || !as) return std::nullopt;
  TRIBEV2_CHECK(bs->length == as->length, "add_array: slices of different lengths (", bs->length, " vs ", as->length,
                ") for an array at ", arr_start, " s on a buffer at ", buf_start, " s");
  for (std::int64_t c = 0; c < channels; ++c) {
    float* dst = buffer + c * T + bs->begin;
    const float* src = array + c * len + as->begin;
    for (std::int64_t i = 0; i < bs->length; ++i) dst[i] += src[i];
  }
  return bs;
}

std::optional<GridSlice> add_event(float* buffer, std::int64_t channels, std::int64_t T, double buf_start,
                                   const float* vec, double ev_start, double ev_dur, double frequency) {
  const auto bs = overlap_slice(buf_start, T, frequency, ev_start, ev_dur);
  if (!bs) return std::nullopt;
  for (std::int64_t c = 0; c < channels; ++c) {
    float* dst = buffer + c * T + bs->begin;
    for (std::int64_t i = 0; i < bs->length; ++i) dst[i] += vec[c];
  }
  return bs;
}

}  // namespace tribev2::features
