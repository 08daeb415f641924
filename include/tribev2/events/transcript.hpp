// Transcripts: word timings from speech recognition, in the formats people have.
//
// * whisper / whisperX JSON ({"segments": [{"text", "words": [{"word", "start", "end"}]}]}),
//   read as upstream's ExtractWordsFromAudio does: words without "start" are dropped,
//   text = word with '"' removed, sentence = segment text with '"' removed, sequence_id =
//   segment index, duration = end - start.
// * upstream's transcript cache: the .tsv pandas writes (text, start, duration, sequence_id,
//   sentence; fields with tabs, quotes or newlines quoted the CSV way).
// * a plain JSON word list: [{text|word, start, duration|end, [sequence_id], [sentence]}]
//   or {"words": [...]} (the fixtures' words.json).
//
// Words are in file time (seconds from the start of the recording). Every parser rejects
// malformed input with a message that names the file, the item and the field.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/events/word.hpp"

namespace tribev2::events {

enum class TranscriptFormat { WhisperJson, WordListJson, UpstreamTsv };
std::string to_string(TranscriptFormat f);

struct Transcript {
  std::vector<Word> words;     // text, start, duration, sequence_id, sentence
  bool has_segments = false;   // sequence_id marks recogniser segments (sentence-like units)
  TranscriptFormat format = TranscriptFormat::WhisperJson;
  std::size_t dropped_words = 0;  // words without timing (whisper) or with empty text
};

Transcript parse_whisper_json(std::string_view text, const std::string& name);
Transcript parse_word_list_json(std::string_view text, const std::string& name);
// An empty file is an empty transcript (upstream reads it as such, with a warning).
Transcript parse_transcript_tsv(std::string_view text, const std::string& name);
// JSON: whisper format when the top level has "segments", else a word list. .tsv: upstream's
// cache. Anything else is refused.
Transcript parse_transcript(std::string_view text, const std::string& name, std::string_view extension);
Transcript read_transcript(const std::filesystem::path& path);

// upstream's cache format, as pandas to_csv(sep="\t", index=False) writes it.
std::string format_transcript_tsv(const std::vector<Word>& words);

// Shortest decimal that reads back to the same double, Python repr style ("1.0", "0.37").
std::string py_float_repr(double v);
// A TSV field quoted the way pandas' csv writer does it (QUOTE_MINIMAL) when needed.
std::string tsv_field(std::string_view s);

}  // namespace tribev2::events
