#include "split_regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>
#include <cstdio>
#include <optional>

#include "tribev2/core/error.hpp"
#include "unicode_tables.hpp"

namespace tribev2::text {

namespace {

// Unicode White_Space, the set Oniguruma's \s matches (and Rust's char::is_whitespace).
constexpr const char* kWhiteSpaceItems =
    "\\x{09}-\\x{0D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n > 0 ? std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n))
               : "PCRE2 error " + std::to_string(code);
}

}  // namespace

struct SplitRegex::Code {
  pcre2_code* code = nullptr;
  ~Code() {
    if (code) pcre2_code_free(code);
  }
};

namespace {

void append_hex(std::string& out, char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\x{%02X}", static_cast<unsigned>(c));
  out += buf;
}

// Class items for [first, last], without the surrogates (not characters in UTF mode).
void append_range(std::string& out, char32_t first, char32_t last) {
  if (first <= 0xDFFF && last >= 0xD800) {
    if (first < 0xD800) append_range(out, first, 0xD7FF);
    if (last > 0xDFFF) append_range(out, 0xE000, last);
    return;
  }
  append_hex(out, first);
  if (last != first) {
    out += '-';
    append_hex(out, last);
  }
}

// The class items of a General_Category from our tables (negated: its complement), or
// nullopt when the name is not a General_Category (scripts etc. stay with PCRE2).
std::optional<std::string> category_items(std::string_view name, bool negated) {
  std::string norm;
  for (char c : name)
    if (c != ' ' && c != '_' && c != '-') norm += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto ranges = unicode::general_category(norm);
  if (!ranges) return std::nullopt;
  std::string out;
  if (!negated) {
    for (const auto& r : *ranges) append_range(out, r.first, r.last);
  } else {
    char32_t next = 0;
    for (const auto& r : *ranges) {
      if (r.first > next) append_range(out, next, r.first - 1);
      next = r.last + 1;
    }
    if (next <= 0x10FFFF) append_range(out, next, 0x10FFFF);
  }
  return out;
}

}  // namespace

std::string rewrite_unicode_classes(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      if (n == 's') {
        out += in_class ? std::string(kWhiteSpaceItems) : "[" + std::string(kWhiteSpaceItems) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(kWhiteSpaceItems) + "]";
      } else if (n == 'p' || n == 'P') {
        // \pL, \p{Name}, \p{^Name}, \P{Name}
        std::size_t end = i + 2;
        std::string name;
        if (end < p.size() && p[end] == '{') {
          const auto close = p.find('}', end);
          if (close == std::string::npos) {  // malformed: PCRE2 reports it
            out += c;
            out += n;
            ++i;
            continue;
          }
          name = p.substr(end + 1, close - end - 1);
          end = close + 1;
        } else if (end < p.size()) {
          name = p.substr(end, 1);
          end += 1;
        }
        bool negated = n == 'P';
        if (!name.empty() && name[0] == '^') {
          negated = !negated;
          name.erase(0, 1);
        }
        if (auto items = category_items(name, negated)) {
          out += in_class ? *items : "[" + *items + "]";
        } else {
          out.append(p, i, end - i);
        }
        i = end - 1;
        continue;
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A leading '^' and a ']' right after the opening (or after '^') are part of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      const auto end = p.find(":]", i + 2);
      if (end != std::string::npos) {
        out.append(p, i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

SplitRegex::SplitRegex(const std::string& pattern, const std::string& source)
    : pattern_(rewrite_unicode_classes(pattern)), source_(source) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  auto code = std::make_shared<Code>();
  code->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (!code->code)
    fail(source, ": pre_tokenizer regex does not compile (", pcre2_message(err), " at offset ", offset,
         "): ", pattern);
  // JIT is an optimisation only: the interpreter gives the same matches.
  (void)pcre2_jit_compile(code->code, PCRE2_JIT_COMPLETE);
  code_ = std::move(code);
}

std::vector<std::pair<std::size_t, std::size_t>> SplitRegex::find_all(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(code_->code, nullptr), &pcre2_match_data_free);
  TRIBEV2_CHECK(md != nullptr, "out of memory creating PCRE2 match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t pos = 0;
  std::uint32_t options = 0;  // the first call validates the whole subject as UTF-8
  while (pos <= text.size()) {
    const int rc = pcre2_match(code_->code, subject, text.size(), pos, options, md.get(), nullptr);
    options = PCRE2_NO_UTF_CHECK;
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
      fail(source_, ": text is not valid UTF-8 (", pcre2_message(rc), ")");
    if (rc < 0) fail(source_, ": pre_tokenizer regex failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    const std::size_t b = ov[0], e = ov[1];
    if (e > b) {
      out.emplace_back(b, e);
      pos = e;
    } else {  // empty match: skip one code point
      if (b >= text.size()) break;
      std::size_t next = b + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      pos = next;
    }
  }
  return out;
}

}  // namespace tribev2::text
