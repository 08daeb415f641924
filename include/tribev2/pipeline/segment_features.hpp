// Per-segment feature tensors as upstream's SegmentDataset builds them (reference-semantics
// section 5 step 5, with the grid rules of 2.2 / 3.2 / 4.2): for every 100 s segment, the
// events overlapping it (start < segment stop and stop > segment start) are summed into a
// zero buffer of T = round(2 * 100) bins covering the segment. Building each segment on its
// own matters: a word that straddles a segment boundary lands in both segments' buffers,
// which slicing one whole-stimulus grid would not reproduce.
//
// The result for one modality is [L, D, n_segments * T]: segment k occupies steps
// [k T, (k + 1) T), which is exactly how model::predict slices its input.
#pragma once

#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/model/predict.hpp"

namespace tribev2::pipeline {

// Word features [n_words, L, D] (one vector per word, summed over the bins the word covers).
Tensor segment_word_features(const Tensor& word_features, const std::vector<events::Word>& words,
                             const std::vector<model::SegmentPlan>& segments, double frequency = 2.0);

// A TimedArray of one event: [L, D, n] at `frequency`, covering n / frequency seconds from
// `array_start`; the event [event_start, event_start + event_duration) decides which
// segments it takes part in. Placement takes upstream's two steps: the array's overlap with
// the segment is cut first (ta.overlap(start, duration)), then `buffer += sub` applies the
// slice rule again (features::add_array), which can drop a bin at a half-bin offset.
struct EventArray {
  double event_start = 0.0;
  double event_duration = 0.0;
  double array_start = 0.0;
  Tensor data;
};
Tensor segment_event_arrays(const std::vector<EventArray>& arrays, const std::vector<model::SegmentPlan>& segments,
                            double frequency = 2.0);

}  // namespace tribev2::pipeline
