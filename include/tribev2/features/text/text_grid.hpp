// Per-word text features summed onto the 2 Hz grid of one segment (upstream
// `aggregation="sum"`, docs/reference-semantics.md section 2.2): words with
// start < seg_start + seg_duration and start + duration > seg_start (strict) are added, each
// over the bins its [start, start + duration) overlaps with neuralset's rounding.
#pragma once

#include <cstdint>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/events/word.hpp"

namespace tribev2::text {

// features [n_words, n_groups, hidden]; has_features (empty: all) marks the words that count.
// Returns [n_groups, hidden, max(1, round(2 * seg_duration))].
Tensor text_grid(const std::vector<events::Word>& words, const Tensor& features,
                 const std::vector<std::uint8_t>& has_features, double seg_start, double seg_duration,
                 double frequency = 2.0);

// Fails naming the first word that starts before 0 or ends after `media_duration` seconds.
void check_words_within(const std::vector<events::Word>& words, double media_duration);

// End of the last word (max of start + duration), 0 for no words.
double words_end(const std::vector<events::Word>& words);

}  // namespace tribev2::text
