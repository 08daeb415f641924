// From a transcript to the Word, Text and Sentence events of a timeline, in upstream's order:
// ExtractWordsFromAudio (copy onto the audio chunks) -> AddText -> AddSentenceToWords ->
// AddContextToWords(sentence_only=False, max_context_len=1024, split_field="") -> RemoveMissing.
#pragma once

#include <cstddef>
#include <vector>

#include "tribev2/events/event_table.hpp"
#include "tribev2/events/transcript.hpp"

namespace tribev2::events {

struct WordEventOptions {
  WordPlacement placement = WordPlacement::Corrected;  // Q1; ReferenceQuirk with --reference-quirks
  SentenceSource sentences = SentenceSource::Auto;     // segments when the transcript has them, else rules
  TextCase text_case = TextCase::Capitalize;           // Q4
  std::size_t max_context_len = 1024;
};

struct WordEventsReport {
  SentenceSource sentences_used = SentenceSource::Rules;
  std::size_t n_sentences = 0;
  std::size_t removed_words = 0;  // by RemoveMissing
};

// Adds the words of `transcript` (file time of the audio whose chunks are `audio_chunks`) to
// `events`, with their Text and Sentence events.
WordEventsReport add_word_events(Events& events, const Transcript& transcript,
                                 const std::vector<MediaEvent>& audio_chunks, const WordEventOptions& options);

}  // namespace tribev2::events
