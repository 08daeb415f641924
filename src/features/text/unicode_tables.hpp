// Unicode General_Category tables for the pre-tokenizer regexes (\p{L}, \p{N}, ...), generated
// by scripts/gen_unicode_tables.py from Debian's unicode-data (version in kUnicodeVersion).
// HuggingFace tokenizers matches these classes with its bundled Oniguruma's tables, which are
// newer than the system PCRE2's; with our own tables the split does not depend on the PCRE2
// the build happens to link (docs/text-features.md, "Unicode version").
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace tribev2::text::unicode {

struct CodeRange {
  char32_t first, last;  // inclusive
};

extern const char* const kUnicodeVersion;

// The sorted, disjoint ranges of a General_Category value: short ("L", "Nd", "LC") or long
// ("Letter", "decimal_number") names, normalised (lower case, no ' ', '_' or '-'). nullopt
// for any other name.
std::optional<std::span<const CodeRange>> general_category(std::string_view normalised_name);

}  // namespace tribev2::text::unicode
