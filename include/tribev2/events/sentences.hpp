// Sentences for words: upstream's AddText + AddSentenceToWords without spaCy.
//
// Upstream joins the timeline's word texts with " ", lets spaCy split that string into
// sentences, rewrites each sentence (AddText: Python `.capitalize().rstrip(".")`, joined with
// ". "; open question Q4), then parses the rewritten Text again with spaCy and gives every
// word `sentence` = its spaCy sentence with trailing whitespace (a substring of the Text) and
// `sentence_char` = its token offset in that sentence; Sentence events span their words.
//
// Here the sentence boundaries come from the recogniser's segments when the transcript has
// them (whisperX splits its segments into sentences), or from a rule-based splitter; the
// Text is built from those sentences with the same rewrite, and since we built it we know
// where every sentence and word lies in it (no re-parse, no fuzzy matching). docs/pipeline.md
// lists where this can differ from spaCy.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tribev2/events/word.hpp"

namespace tribev2::events {

enum class SentenceSource { Auto, Segments, Rules };
enum class TextCase {
  Capitalize,  // neuralset 0.0.2 AddText (our default): sentence.capitalize().rstrip("."), ". ".join
  UpperFirst,  // newest neuralset EnsureTexts: s[0].upper() + s[1:], ". ".join, final "." added
};

SentenceSource parse_sentence_source(const std::string& s);
TextCase parse_text_case(const std::string& s);
std::string to_string(SentenceSource s);
std::string to_string(TextCase c);

// Index of the first word of each sentence (always starts with 0 when words is non-empty).
// Segments: a new sentence wherever sequence_id changes. Rules: after a word ending in . ! ?
// (or … 。 ！ ？), closing quotes/brackets aside, unless it is a known abbreviation or a
// single-letter initial, or a '.' followed by a word starting in lower case.
std::vector<std::size_t> sentence_starts_from_segments(const std::vector<Word>& words);
std::vector<std::size_t> sentence_starts_by_rules(const std::vector<Word>& words);
bool ends_sentence(const std::string& word, const std::string* next_word);

struct SpanEvent {
  std::string type;  // "Text" or "Sentence"
  double start = 0.0;
  double duration = 0.0;
  std::string text;
};

struct TextAndSentences {
  SpanEvent text;                    // the AddText event
  std::vector<SpanEvent> sentences;  // AddSentenceToWords' Sentence events
};

// AddText + AddSentenceToWords on a timeline's words (in order; start sorted): sets every
// word's `sentence` and `sentence_char` and returns the Text and Sentence events. Sentence
// events follow upstream's _extract_sentences: start = first word start - 1e-6, duration =
// last word stop - first word start + 2e-6.
TextAndSentences add_text_and_sentences(std::vector<Word>& words, const std::vector<std::size_t>& sentence_starts,
                                        TextCase text_case);

// Upstream's _extract_sentences over words that carry sentence / sentence_char.
std::vector<SpanEvent> extract_sentences(const std::vector<Word>& words);

}  // namespace tribev2::events
