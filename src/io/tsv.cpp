#include "tribev2/io/tsv.hpp"

#include "tribev2/core/error.hpp"

namespace tribev2::io {

std::vector<TsvRecord> split_tsv(std::string_view text, const std::string& name) {
  std::vector<TsvRecord> out;
  std::size_t i = 0;
  int line = 1;
  const auto ends_field = [&](std::size_t k) { return text[k] == '\t' || text[k] == '\n' || text[k] == '\r'; };
  while (i < text.size()) {
    TsvRecord rec;
    rec.line = line;
    for (;;) {
      std::string field;
      if (i < text.size() && text[i] == '"') {
        const int qline = line;
        ++i;
        for (;;) {
          if (i >= text.size()) fail(name, ":", qline, ": unterminated quoted field");
          const char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        if (i < text.size() && !ends_field(i)) fail(name, ":", line, ": unexpected character after a closing quote");
      } else {
        while (i < text.size() && !ends_field(i)) field += text[i++];
      }
      rec.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == '\t') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\r') ++i;
      if (i < text.size() && text[i] == '\n') {
        ++i;
        ++line;
      }
      break;
    }
    const bool blank = rec.fields.size() == 1 && rec.fields[0].empty();
    if (!blank) out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace tribev2::io
