#include "tribev2/events/word_events.hpp"

#include "tribev2/core/error.hpp"

namespace tribev2::events {

WordEventsReport add_word_events(Events& events, const Transcript& transcript,
                                 const std::vector<MediaEvent>& audio_chunks, const WordEventOptions& options) {
  WordEventsReport report;
  std::vector<Word> words = place_transcript(transcript.words, audio_chunks, options.placement);
  if (words.empty()) return report;
  SentenceSource source = options.sentences;
  if (source == SentenceSource::Auto) source = transcript.has_segments ? SentenceSource::Segments : SentenceSource::Rules;
  if (source == SentenceSource::Segments && !transcript.has_segments)
    fail("--sentences segments: this transcript (", to_string(transcript.format),
         ") has no recogniser segments (sequence_id); use --sentences rules or auto");
  report.sentences_used = source;
  const auto starts =
      source == SentenceSource::Segments ? sentence_starts_from_segments(words) : sentence_starts_by_rules(words);
  report.n_sentences = starts.size();
  TextAndSentences ts = add_text_and_sentences(words, starts, options.text_case);
  sort_words(words);
  add_context(words, options.max_context_len);
  report.removed_words = remove_missing(words);
  events.spans.push_back(std::move(ts.text));
  for (auto& s : ts.sentences) events.spans.push_back(std::move(s));
  for (auto& w : words) events.words.push_back(std::move(w));
  sort_words(events.words);
  return report;
}

}  // namespace tribev2::events
