// Languages: the code passed to the speech recogniser, the name upstream stores in Word
// events ("english"), and the espeak-ng voice used for text inputs.
#pragma once

#include <string>

namespace tribev2::pipeline {

struct Language {
  std::string code;    // ISO 639-1 as whisper takes it: "en"
  std::string name;    // upstream's Word.language: "english"
  std::string voice;   // espeak-ng voice: "en-us"
};

// Accepts a code ("en") or one of upstream's names ("english"); unknown codes are passed
// through (code = name = voice = the argument) so that any whisper language / espeak voice works.
Language parse_language(const std::string& text);

}  // namespace tribev2::pipeline
