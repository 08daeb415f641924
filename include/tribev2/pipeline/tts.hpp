// Offline text-to-speech with espeak-ng's library, with word timings taken from the
// synthesiser's own word events (upstream uses gTTS, which needs the internet, and then
// recovers the timings with WhisperX; see docs/pipeline.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/events/word.hpp"

namespace tribev2::pipeline {

struct SpeechOptions {
  std::string voice = "en-us";  // espeak-ng voice name (see `espeak-ng --voices`)
  int rate_wpm = 175;           // espeak-ng's default speaking rate
};

struct Speech {
  std::vector<std::int16_t> samples;  // mono
  int sample_rate = 0;
  // One word per whitespace-separated token that contains a letter or digit, in text order,
  // in seconds from the start of `samples`: monotonic, non-overlapping, inside the audio.
  std::vector<events::Word> words;
  double duration() const { return sample_rate ? static_cast<double>(samples.size()) / sample_rate : 0.0; }
};

// Text must be valid UTF-8 and contain at least one word. Bit-reproducible: the same text and
// options give the same samples and timings in any process, whatever it synthesised before and
// from any thread (each call runs espeak-ng, freshly initialised, in a forked child process;
// espeak-ng's own state is global and is not reset between syntheses).
Speech synthesize_speech(std::string_view text, const SpeechOptions& options);
// "espeak-ng 1.51" (for cache keys and run.json).
std::string espeak_version();

// --- the timing rules, exposed for tests ---------------------------------------------------

struct Token {
  std::string text;
  std::size_t begin = 0, end = 0;  // code point offsets in the text, [begin, end)
  bool is_word = false;            // has a letter or digit (anything non-ASCII counts as a letter)
};
std::vector<Token> tokenize_words(std::string_view text);
bool is_valid_utf8(std::string_view text);

struct WordMark {        // an espeak-ng event
  bool is_word = false;  // espeakEVENT_WORD with a length; otherwise a boundary only
  std::size_t position = 0;  // code point offset of the word in the text (0-based)
  std::int64_t sample = 0;
};
// Per token: [start, end) in samples. Tokens without their own word event share the span of
// the preceding word event (or the speech before the first one) in proportion to their
// length; leading/trailing near-silence is trimmed from every span.
std::vector<std::pair<std::int64_t, std::int64_t>> time_tokens(const std::vector<Token>& tokens,
                                                               const std::vector<WordMark>& marks,
                                                               const std::vector<std::int16_t>& samples);

}  // namespace tribev2::pipeline
