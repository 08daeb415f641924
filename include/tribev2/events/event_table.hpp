// The events of one stimulus (upstream's events DataFrame for one timeline) and the
// transforms of upstream's get_audio_and_text_events that act on it: chunking of the media
// events, the copy of the transcript onto the audio chunks (ExtractWordsFromAudio, with the
// open question Q1), RemoveMissing, the timeline bounds of the dummy whole-timeline event
// (section 5, Q7) and the events.tsv writer.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/events/chunks.hpp"
#include "tribev2/events/sentences.hpp"
#include "tribev2/events/word.hpp"

namespace tribev2::events {

// An Audio or Video event (one chunk after ChunkEvents).
struct MediaEvent {
  std::string type;                // "Audio" or "Video"
  std::filesystem::path filepath;
  double start = 0.0;              // timeline seconds
  double offset = 0.0;             // seconds into the file
  double duration = 0.0;
  double frequency = 0.0;          // sample rate or fps
  double stop() const { return start + duration; }
};

struct Events {
  std::vector<MediaEvent> media;   // Audio/Video chunks, in chunk order
  std::vector<Word> words;         // after RemoveMissing, sorted by start
  std::vector<SpanEvent> spans;    // the Text event and the Sentence events
  std::string language = "english";
  std::string timeline = "default";
  std::string subject = "default";

  bool has(const std::string& media_type) const;
  // Bounds of upstream's dummy CategoricalEvent: min start / max stop over every event of
  // the timeline (media chunks, words, Text, Sentences). t0 is -1e-6 when the first word
  // starts at 0 (the Sentence epsilon, Q7).
  double start() const;
  double stop() const;
};

// ChunkEvents(max_duration, min_duration) applied to one whole-file media event.
std::vector<MediaEvent> chunk_media(const MediaEvent& event, double max_duration = 60.0, double min_duration = 30.0);

enum class WordPlacement {
  Corrected,       // each word once: start = audio.start + t - audio.offset (of the unchunked event)
  ReferenceQuirk,  // upstream: the whole transcript copied onto every chunk, start += chunk.start + chunk.offset
};

// ExtractWordsFromAudio's copy step: transcript words (file time) onto the audio chunks of
// one file. `chunks` are the chunks of one Audio event, in order. In quirk mode the copies
// keep their sequence ids, offset by the copy index times (max id + 1) so that sentence
// grouping by segment does not merge copies.
std::vector<Word> place_transcript(const std::vector<Word>& transcript, const std::vector<MediaEvent>& chunks,
                                   WordPlacement placement);

// upstream's RemoveMissing(): drops words whose context is empty.
std::size_t remove_missing(std::vector<Word>& words);

// Stable sort by start (upstream sorts the events by start after AddSentenceToWords).
void sort_words(std::vector<Word>& words);

// events.tsv: one row per event sorted by (start, -duration) as standardize_events does, with
// the columns type, start, duration, stop, timeline, subject, filepath, offset, frequency,
// text, language, sentence, sentence_char, context, sequence_id. The last row is the dummy
// CategoricalEvent spanning [start(), stop()).
std::string format_events_tsv(const Events& events);

}  // namespace tribev2::events

namespace tribev2::events {

// One row of an events table read back (events.tsv as `tribev2 run` writes it, or as the user
// edited it / pandas wrote it): the columns every consumer needs. Missing optional columns read
// as empty / 0.
struct EventRow {
  std::string type;
  double start = 0.0, duration = 0.0, offset = 0.0;
  std::string filepath, text;
  int line = 0;  // where the row starts in the file (for messages)
};

// Parses an events table. Required columns: type, start, duration; optional: filepath, offset,
// text. Errors name `name`, the line and the column: wrong field counts, numbers that are not
// finite, negative durations, an Audio/Video row without a filepath.
std::vector<EventRow> parse_events_tsv(std::string_view text, const std::string& name);

}  // namespace tribev2::events
