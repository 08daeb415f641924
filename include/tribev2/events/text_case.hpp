// The Python string methods upstream's AddText applies to sentences, on UTF-8 text.
//
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek (with the final-sigma rule of
// str.lower) and basic Cyrillic. Only mappings that keep the UTF-8 byte length are applied,
// so character offsets computed before a case change stay valid after it; the few Python
// mappings that change length (e.g. 'İ'.lower(), 'ß'.upper(), 'ſ'.upper()) leave the
// character unchanged. Invalid UTF-8 bytes are passed through unchanged.
#pragma once

#include <string>
#include <string_view>

namespace tribev2::events {

// Python str.capitalize(): first character upper (title) case, every other one lower case.
std::string py_capitalize(std::string_view s);
// s[0].upper() + s[1:] (neuralset's newest EnsureTexts).
std::string upper_first(std::string_view s);
std::string py_lower(std::string_view s);
// Python str.strip() / rstrip(chars) for ASCII whitespace and ASCII `chars`.
std::string_view py_strip(std::string_view s);
std::string_view py_rstrip(std::string_view s, std::string_view chars);

}  // namespace tribev2::events
