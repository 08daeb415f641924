// Placement of features on the 2 Hz segment grid with neuralset's TimedArray rules, shared by
// the text, audio and video extractors (reference-semantics sections 2.2, 3.2 and 4.2).
//
// A TimedArray with a frequency covers len/frequency seconds from its start. For a window
// [w_start, w_start + w_dur) its overlap slice is:
//   ov0 = max(w_start, start), ov1 = min(w_start + w_dur, start + duration)
//   none if ov1 < ov0, or if ov1 == ov0 and both durations are non-zero
//   i0 = round(f * (ov0 - start)), n = max(round(f * (ov1 - ov0)), 1), i0 = min(i0, len - n)
// with Python's round-half-to-even on float64. `buffer += array` applies the rule on both
// sides (buffer slots for the array's extent, array slots for the buffer's extent) and adds;
// a frequency-0 array (a word's vector) is broadcast over its buffer slots.
#pragma once

#include <cstdint>
#include <optional>

namespace tribev2::features {

// Python round() on float64: half to even.
double py_round(double x);
// Bins of a segment buffer: max(1, round(frequency * duration)).
std::int64_t segment_bins(double duration, double frequency = 2.0);

struct GridSlice {
  std::int64_t begin = 0;
  std::int64_t length = 0;
};

// The overlap slice of an array (start, len bins at `frequency`) for a window.
std::optional<GridSlice> overlap_slice(double start, std::int64_t len, double frequency, double w_start,
                                       double w_dur);

// buffer[C, T] (covering [buf_start, buf_start + T/f)) += array[C, len] (from arr_start).
// Returns the buffer slice that was written (nullopt if nothing overlapped). Throws if the
// two slices disagree in length (upstream raises a broadcast error there).
std::optional<GridSlice> add_array(float* buffer, std::int64_t channels, std::int64_t T, double buf_start,
                                   const float* array, std::int64_t len, double arr_start, double frequency = 2.0);

// buffer[C, T] += vec[C] broadcast over the bins of the event [ev_start, ev_start + ev_dur).
std::optional<GridSlice> add_event(float* buffer, std::int64_t channels, std::int64_t T, double buf_start,
                                   const float* vec, double ev_start, double ev_dur, double frequency = 2.0);

}  // namespace tribev2::features
