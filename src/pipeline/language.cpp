#include "tribev2/pipeline/language.hpp"

#include <array>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

Language parse_language(const std::string& text) {
  // upstream's ExtractWordsFromAudio knows english, french, spanish, dutch and chinese.
  static const std::array<Language, 8> known = {{{"en", "english", "en-us"},
                                                 {"fr", "french", "fr"},
                                                 {"es", "spanish", "es"},
                                                 {"nl", "dutch", "nl"},
                                                 {"zh", "chinese", "cmn"},
                                                 {"de", "german", "de"},
                                                 {"it", "italian", "it"},
                                                 {"pt", "portuguese", "pt"}}};
  TRIBEV2_CHECK(!text.empty(), "--language must not be empty");
  for (const auto& l : known)
    if (text == l.code || text == l.name) return l;
  for (char c : text)
    TRIBEV2_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_',
                  "--language: expected a language code such as 'en', got '", text, "'");
  return {text, text, text};
}

}  // namespace tribev2::pipeline
