#include "tribev2/events/text_case.hpp"

#include "tribev2/core/utf8.hpp"

#include <cstdint>

namespace tribev2::events {

namespace {

struct CodePoint {
  char32_t cp = 0;
  std::size_t len = 1;
  bool valid = false;
};

CodePoint decode(std::string_view s, std::size_t i) {
  char32_t cp = 0;
  const std::size_t n = utf8::decode(s, i, cp);
  if (n == 0) return {};
  return {cp, n, true};
}

void encode(char32_t cp, std::string& out) { utf8::append(out, cp); }

// Upper <-> lower pairs; every mapping here keeps the UTF-8 length (all are 1- or 2-byte).
char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
    return (c % 2 == 0) ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

char32_t to_upper(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
    return (c % 2 == 1) ? c - 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 0) ? c - 1 : c;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;  // final sigma
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

bool is_cased_letter(char32_t c) { return to_lower(c) != c || to_upper(c) != c; }

// Python's str.lower() maps capital sigma to final sigma when it ends a word: preceded by a
// cased letter and not followed by one.
std::string lower_from(std::string_view s, std::size_t begin, std::string out) {
  char32_t prev = 0;
  for (std::size_t i = begin; i < s.size();) {
    const CodePoint c = decode(s, i);
    if (!c.valid) {
      out += s[i];
      ++i;
      prev = 0;
      continue;
    }
    char32_t lc = to_lower(c.cp);
    if (c.cp == 0x3A3 && prev != 0 && is_cased_letter(prev)) {
      const std::size_t j = i + c.len;
      const CodePoint next = j < s.size() ? decode(s, j) : CodePoint{};
      if (!(next.valid && is_cased_letter(next.cp))) lc = 0x3C2;
    }
    encode(lc, out);
    prev = c.cp;
    i += c.len;
  }
  return out;
}

}  // namespace

std::string py_lower(std::string_view s) { return lower_from(s, 0, {}); }

std::string py_capitalize(std::string_view s) {
  if (s.empty()) return {};
  const CodePoint c = decode(s, 0);
  std::string out;
  if (!c.valid) {
    out += s[0];
    return lower_from(s, 1, std::move(out));
  }
  encode(to_upper(c.cp), out);
  return lower_from(s, c.len, std::move(out));
}

std::string upper_first(std::string_view s) {
  if (s.empty()) return {};
  const CodePoint c = decode(s, 0);
  if (!c.valid) return std::string(s);
  std::string out;
  encode(to_upper(c.cp), out);
  out.append(s.substr(c.len));
  return out;
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

std::string_view py_strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view py_rstrip(std::string_view s, std::string_view chars) {
  while (!s.empty() && chars.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

}  // namespace tribev2::events
