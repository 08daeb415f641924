// The regex of a `Split` pre-tokenizer, compiled with PCRE2 (UTF + Unicode properties).
// HuggingFace `tokenizers` runs these patterns with Oniguruma, whose \s is the Unicode
// White_Space set; PCRE2's \s differs (U+180E), so \s and \S are rewritten to that exact set.
// General_Category properties (\p{L}, \p{N}, \P{..}, \p{^..}) are rewritten to explicit ranges
// from our generated tables (unicode_tables.hpp), so that the Unicode version is the one we
// pin, not the system PCRE2's (which lags Oniguruma's: e.g. U+11F50 KAWI DIGIT ZERO).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tribev2::text {

class SplitRegex {
 public:
  // Throws with `source` and the PCRE2 message (and offset) when the pattern does not compile.
  SplitRegex(const std::string& pattern, const std::string& source);

  // Non-empty, non-overlapping matches [begin, end) in byte offsets, left to right (empty
  // matches are skipped, as tokenizers does). Throws on invalid UTF-8.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

  // The pattern actually compiled (after rewrite_unicode_classes), for tests.
  const std::string& compiled_pattern() const { return pattern_; }

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
  std::string pattern_;
  std::string source_;
};

// Rewrites \s / \S (outside and inside character classes) to the White_Space set, and
// General_Category properties to explicit code point ranges of our tables. Other properties
// (scripts) are left to PCRE2.
std::string rewrite_unicode_classes(const std::string& pattern);

}  // namespace tribev2::text
