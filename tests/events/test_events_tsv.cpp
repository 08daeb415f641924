// events.tsv read back: a round trip of what format_events_tsv writes, pandas' quoting, and
// clear errors (file, line, column) for corrupt tables.
#include <gtest/gtest.h>

#include "tribev2/core/error.hpp"
#include "tribev2/events/event_table.hpp"

using namespace tribev2;
using namespace tribev2::events;

namespace {

std::string error_of(const std::string& text) {
  try {
    (void)parse_events_tsv(text, "ev.tsv");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(EventsTsv, RoundTripOfTheWriter) {
  Events ev;
  ev.media = chunk_media({"Audio", "clip.wav", 0.0, 0.0, 100.0, 16000.0});
  // A quote and a tab: pandas quotes the field.
  const std::string text = "say \"hi\"\tthen";
  Word w;
  w.text = text;
  w.start = 1.5;
  w.duration = 0.25;
  w.context = "x";
  ev.words.push_back(w);
  const auto rows = parse_events_tsv(format_events_tsv(ev), "ev.tsv");
  int audio = 0, words = 0;
  for (const auto& r : rows) {
    if (r.type == "Audio") {
      ++audio;
      EXPECT_EQ(r.filepath, "clip.wav");
    }
    if (r.type == "Word") {
      ++words;
      EXPECT_EQ(r.text, w.text);
      EXPECT_DOUBLE_EQ(r.start, 1.5);
      EXPECT_DOUBLE_EQ(r.duration, 0.25);
    }
  }
  EXPECT_EQ(audio, 2);  // 100 s in chunks of <= 60 s
  EXPECT_EQ(words, 1);
}

TEST(EventsTsv, QuotedNewlineAndMissingOptionalColumns) {
  const auto rows = parse_events_tsv("type\tstart\tduration\ttext\nWord\t0.5\t0.2\t\"two\nlines\"\r\nWord\t1\t0.2\tb\n\n", "ev.tsv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "two\nlines");
  EXPECT_EQ(rows[1].line, 4);  // the quoted newline counts
  EXPECT_DOUBLE_EQ(rows[1].offset, 0.0);
}

TEST(EventsTsv, CorruptTablesNameFileLineAndColumn) {
  EXPECT_NE(error_of("").find("ev.tsv: empty file"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\nWord\t1\n").find("no 'duration' column"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\t1\n").find("ev.tsv:2: 2 fields, but the header has 3"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\tnan\t1\n").find("ev.tsv:2: column start is not a finite number: 'nan'"),
            std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\t1e999\t1\n").find("column start"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\t1\t-2\n").find("ev.tsv:2: column duration is negative"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\tfilepath\nVideo\t0\t1\t\n").find("a Video event without a filepath"),
            std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\t1\t\"2\n").find("ev.tsv:2: unterminated quoted field"), std::string::npos);
  EXPECT_NE(error_of("type\tstart\tduration\nWord\t\"1\"x\t2\n").find("unexpected character after a closing quote"),
            std::string::npos);
}
