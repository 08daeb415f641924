// UTF-8 helpers for the tokenizer and the word-span rule: decoding with validation, code
// point counting and Python's str.isspace / str.rstrip semantics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tribev2::utf8 {

// Decodes the code point starting at s[i]; returns its byte length, or 0 if the bytes there
// are not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF are invalid).
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp);
bool valid(std::string_view s);
// Byte offset of the first invalid sequence, or npos.
std::size_t first_invalid(std::string_view s);
void append(std::string& out, char32_t cp);
// Whole-string conversions (invalid bytes decode to U+FFFD, one per byte).
std::u32string to_u32(std::string_view s);
std::string from_u32(std::u32string_view s);

// Number of code points (s must be valid UTF-8).
std::size_t length(std::string_view s);
// Python str.isspace() for one code point.
bool py_isspace(char32_t cp);
// Rust char::is_whitespace (Unicode White_Space).
bool is_white_space(char32_t cp);
// Python s.rstrip() (no argument): drops trailing code points for which isspace() holds.
std::string_view py_rstrip(std::string_view s);
// Python s[:-n] for n >= 0 counted in code points (s[:-0] is the empty string, as in Python).
std::string_view py_drop_last(std::string_view s, std::size_t n);

}  // namespace tribev2::utf8
