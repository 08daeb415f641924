// Reading an events table back (the inverse of format_events_tsv for the columns consumers use).
#include <charconv>
#include <cmath>
#include <map>

#include "tribev2/core/error.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/text_case.hpp"
#include "tribev2/io/tsv.hpp"

namespace tribev2::events {

namespace {

// pandas writes NaN as an empty field (a Word has no offset, a Video no text): empty reads as 0.
double number_or_zero(const std::string& s, const std::string& where, const char* column) {
  const std::string_view v = py_strip(s);
  if (v.empty()) return 0.0;
  double d = 0.0;
  const auto* end = v.data() + v.size();
  const auto r = std::from_chars(v.data(), end, d);
  if (r.ec != std::errc() || r.ptr != end || !std::isfinite(d))
    fail(where, ": column ", column, " is not a finite number: '", s, "'");
  return d;
}

}  // namespace

std::vector<EventRow> parse_events_tsv(std::string_view text, const std::string& name) {
  const auto records = io::split_tsv(text, name);
  TRIBEV2_CHECK(!records.empty(), name, ": empty file (expected a header with type, start, duration, filepath, offset, text)");
  const auto& header = records.front().fields;
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col.emplace(header[i], i);
  for (const char* need : {"type", "start", "duration"})
    TRIBEV2_CHECK(col.count(need), name, ": the header has no '", need, "' column (expected an events.tsv from `tribev2 run`)");
  std::vector<EventRow> rows;
  rows.reserve(records.size() - 1);
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    const std::string where = name + ":" + std::to_string(records[r].line);
    TRIBEV2_CHECK(f.size() == header.size(), where, ": ", f.size(), " fields, but the header has ", header.size());
    auto get = [&](const char* c) -> const std::string& {
      static const std::string none;
      const auto it = col.find(c);
      return it == col.end() ? none : f[it->second];
    };
    EventRow row;
    row.line = records[r].line;
    row.type = get("type");
    row.start = number_or_zero(get("start"), where, "start");
    row.duration = number_or_zero(get("duration"), where, "duration");
    row.offset = number_or_zero(get("offset"), where, "offset");
    TRIBEV2_CHECK(row.duration >= 0, where, ": column duration is negative (", row.duration, ")");
    row.filepath = get("filepath");
    row.text = get("text");
    if (row.type == "Video" || row.type == "Audio")
      TRIBEV2_CHECK(!row.filepath.empty(), where, ": a ", row.type, " event without a filepath");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tribev2::events
