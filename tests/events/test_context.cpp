// AddContextToWords against the text fixtures' expected contexts (max_context_len 1024 and 8).
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/events/word.hpp"

using namespace tribev2;
using namespace tribev2::test;

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
  EXPECT_THROW_MSG(events::read_words(tmp / "bad.tsv"), "bad.tsv:2: start must be a number, got 'soon'");
  write_bytes(tmp / "bad.json", R"({"words": [{"text": "a"}]})");
  EXPECT_THROW_MSG(events::read_words(tmp / "bad.json"), "words[0]: needs a number 'start'");
  EXPECT_THROW_MSG(events::read_words(tmp / "w.txt"), "unsupported word list type");
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
