// AddContextToWords against the text fixtures' expected contexts (max_context_len 1024 and 8).
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/events/word.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

TEST(Context, MatchesFixtures) {
  for (auto [dir, n] : {std::pair{"ctx1024", 1024}, std::pair{"ctx8", 8}}) {
    auto words = events::read_words_json(fixture(std::string("text_features/") + dir + "/words.json"));
    std::vector<std::string> expected;
    for (auto& w : words) expected.push_back(w.context), w.context.clear();
    events::add_context(words, static_cast<std::size_t>(n));
    ASSERT_EQ(words.size(), 46u);
    for (std::size_t i = 0; i < words.size(); ++i) EXPECT_EQ(words[i].context, expected[i]) << dir << " word " << i;
  }
}

TEST(Context, UnmatchedWordsGetEmptyContext) {
  std::vector<events::Word> w(3);
  w[0].text = "Hello";
  w[0].sentence = "Hello there. ";
  w[0].sentence_char = 0;
  w[1].text = "um";  // unmatched
  w[2].text = "there.";
  w[2].sentence = "Hello there. ";
  w[2].sentence_char = 6;
  events::add_context(w);
  EXPECT_EQ(w[0].context, "Hello");
  EXPECT_EQ(w[1].context, "");
  EXPECT_EQ(w[2].context, "Hello there.");
}

TEST(Words, TsvAndErrors) {
  TempDir tmp;
  write_bytes(tmp / "t.tsv", "text\tstart\tduration\tsequence_id\tsentence\nHello\t0.5\t0.25\t0\tHello world.\nworld.\t0.8\t0.3\t0\tHello world.\n");
  const auto w = events::read_words(tmp / "t.tsv");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].text, "world.");
  EXPECT_DOUBLE_EQ(w[1].start, 0.8);
  write_bytes(tmp / "bad.tsv", "text\tstart\tduration\nHello\tsoon\t0.2\n");
  EXPECT_THROW_MSG(events::read_words(tmp / "bad.tsv"), "bad.tsv:2: start must be a finite number, got 'soon'");
  write_bytes(tmp / "bad.json", R"({"words": [{"text": "a"}]})");
  EXPECT_THROW_MSG(events::read_words(tmp / "bad.json"), "words[0]: needs a number 'start'");
  EXPECT_THROW_MSG(events::read_words(tmp / "w.txt"), "unsupported word list type");
}

// words.tsv goes through the transcript reader (one TSV parser): quoting as pandas writes it.
TEST(Words, TsvSharesTheTranscriptReader) {
  TempDir tmp;
  write_bytes(tmp / "q.tsv", "text\tstart\tduration\tsequence_id\tsentence\n\"say \"\"hi\"\"\"\t0.5\t0.25\t3\t\"a\tb\"\n");
  const auto w = events::read_words(tmp / "q.tsv");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].text, "say \"hi\"");
  EXPECT_EQ(w[0].sentence, "a\tb");
  EXPECT_EQ(w[0].sequence_id, 3);
  const std::string head = "text\tstart\tduration\tsequence_id\tsentence\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {head + "a\t0\t1\t1e300\ts\n", "sequence_id must be an integer within +-9e15, got 1e300"},
      {head + "a\t0\t1\t-1e300\ts\n", "sequence_id must be an integer within +-9e15"},
      {head + "a\t0\t1\t1.5\ts\n", "sequence_id must be an integer"},
      {head + "a\t0\t1\tnan\ts\n", "sequence_id must be a finite number"},
      {head + "a\t0\t1\n", "3 fields, but the header has 5"},
      {head + "a\tinf\t1\t0\ts\n", "start must be a finite number"},
      {head + "\"a\t0\t1\t0\ts\n", "unterminated quoted field"},
      {"", "empty word list"},
      {"word\tbegin\n", "must name the columns text, start and duration"},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const fs::path p = tmp / ("bad" + std::to_string(i) + ".tsv");
    write_bytes(p, bad[i].first);
    EXPECT_THROW_MSG(events::read_words(p), bad[i].second);
    EXPECT_THROW_MSG(events::read_words(p), p.string());  // the error names the file
  }
}

// A present field of the wrong type is an error naming file, word, field and expected type.
TEST(Words, JsonWrongTypesAreErrors) {
  TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"words": [{"text": "a", "start": "0.5", "duration": 1}]})", "words[0]: 'start' must be a number, got string"},
      {R"({"words": [{"text": 7, "start": 0.5, "duration": 1}]})", "words[0]: 'text' must be a string, got number"},
      {R"({"words": [{"text": "a", "start": 0, "duration": [1]}]})", "'duration' must be a number, got array"},
      {R"({"words": [{"text": "a", "start": 0, "end": null}]})", "'end' must be a number, got null"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "sentence": 3}]})", "'sentence' must be a string, got number"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "context": {}}]})", "'context' must be a string, got object"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "sentence_char": 1.5}]})", "'sentence_char' must be an integer, got number"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "sequence_id": 1e300}]})", "'sequence_id' must be an integer, got number"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "sequence_id": "2"}]})", "'sequence_id' must be an integer, got string"},
      {R"({"words": [{"text": "a", "start": 0, "duration": 1, "sequence_id": 18446744073709551615}]})", "'sequence_id' is out of the 64-bit integer range"},
      {R"({"words": [{"text": "a", "start": 1e400, "duration": 1}]})", "not valid JSON"},
      {R"({"words": [{"text": "a", "start": 0, "duration": -1}]})", "duration >= 0"},
      {R"({"words": [3]})", "words[0]: expected an object, got number"},
      {R"({"words": {}})", "expected {\"words\": [...]}"},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const fs::path p = tmp / ("bad" + std::to_string(i) + ".json");
    write_bytes(p, bad[i].first);
    EXPECT_THROW_MSG(events::read_words(p), bad[i].second);
    EXPECT_THROW_MSG(events::read_words(p), p.string());
  }
  write_bytes(tmp / "ok.json", R"({"words": [{"text": "a", "start": 0, "end": 0.5, "sentence": "a b", "sentence_char": 0, "sequence_id": 9007199254740993}]})");
  const auto w = events::read_words(tmp / "ok.json");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].sequence_id, 9007199254740993);
  EXPECT_DOUBLE_EQ(w[0].duration, 0.5);
}

TEST(Context, OffsetsCountCodePointsLikePython) {
  // "Café où il va. ": "il" starts at code point 8 (byte 10).
  std::vector<events::Word> w(3);
  const std::string s = "Caf\xc3\xa9 o\xc3\xb9 il va. ";
  w[0].text = "Caf\xc3\xa9";
  w[0].sentence_char = 0;
  w[1].text = "o\xc3\xb9";
  w[1].sentence_char = 5;
  w[2].text = "il";
  w[2].sentence_char = 8;
  for (auto& x : w) x.sentence = s;
  events::add_context(w);
  EXPECT_EQ(w[0].context, "Caf\xc3\xa9");
  EXPECT_EQ(w[1].context, "Caf\xc3\xa9 o\xc3\xb9");
  EXPECT_EQ(w[2].context, "Caf\xc3\xa9 o\xc3\xb9 il");
}
