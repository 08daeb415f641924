// Tab-separated text as pandas reads and writes it (read_csv(sep="\t") / to_csv(sep="\t") with the
// default QUOTE_MINIMAL quoting): a field that starts with '"' runs to the matching '"' (a doubled
// '"' inside is one quote) and may hold tabs and newlines. One splitter for every TSV we read
// (upstream's transcript cache, events.tsv, manifests), so that quoting rules cannot drift apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tribev2::io {

struct TsvRecord {
  std::vector<std::string> fields;
  int line = 0;  // 1-based line where the record starts (a quoted field may span lines)
};

// Records of `text` in order, blank lines skipped; \n and \r\n line ends. Errors name `name` and
// the line: an unterminated quoted field, a character after a closing quote.
std::vector<TsvRecord> split_tsv(std::string_view text, const std::string& name);

}  // namespace tribev2::io
