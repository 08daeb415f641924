// Word events (upstream neuralset `Word` rows) and the AddContextToWords transform.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tribev2::events {

struct Word {
  std::string text;
  double start = 0.0;
  double duration = 0.0;
  std::string sentence;                  // the sentence text, trailing whitespace included
  std::optional<std::int64_t> sentence_char;  // offset of the word in `sentence`; none = unmatched
  std::int64_t sequence_id = 0;          // whisper segment index (transcript caches)
  std::string context;                   // filled by add_context()

  double stop() const { return start + duration; }
};

// upstream AddContextToWords(sentence_only=False, max_context_len=N, split_field=""): each
// word's context is the text from at most N word parts back up to and including the word.
// Words without a sentence or sentence_char get an empty context (RemoveMissing drops them).
void add_context(std::vector<Word>& words, std::size_t max_context_len = 1024);

// The fixtures' format: {"words": [{text, start, duration, sentence, sentence_char, ...}]}.
// A field of the wrong type (e.g. "sentence": 3) is an error naming the file, the word, the
// field and the expected type.
std::vector<Word> read_words_json(const std::filesystem::path& path);
// upstream's transcript cache: TSV with a header containing text, start, duration,
// sequence_id, sentence (other columns ignored). Parsed by events::parse_transcript_tsv (the
// one TSV reader): quoted fields, sequence_id an integer within +-9e15, a clear error per line.
std::vector<Word> read_words_tsv(const std::filesystem::path& path);
// By extension (.json / .tsv).
std::vector<Word> read_words(const std::filesystem::path& path);

}  // namespace tribev2::events
