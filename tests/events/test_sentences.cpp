// AddText / AddSentenceToWords / AddContextToWords on transcripts with punctuation, numbers and
// mid-sentence capitals; the rule-based sentence splitter; Python's str.capitalize on UTF-8.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/events/sentences.hpp"
#include "tribev2/events/text_case.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/events/word_events.hpp"

using namespace tribev2;
using namespace tribev2::events;

namespace {

std::vector<Word> words_of(const std::string& text, double step = 0.5) {
  std::vector<Word> out;
  std::size_t i = 0;
  double t = 0.25;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t j = text.find(' ', i);
    const std::string w = text.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!w.empty()) {
      Word word;
      word.text = w;
      word.start = t;
      word.duration = step * 0.8;
      out.push_back(word);
      t += step;
    }
    i = j == std::string::npos ? text.size() : j;
  }
  return out;
}

const char* kText =
    "What brings you to the land of the gatekeepers? I asked her in 1984, and she didn't answer. The Quick brown "
    "fox jumps over the lazy dog near Paris. Numbers like 31415 and 27 matter; so do names such as O'Neil and "
    "McDonald's! Finally, the end.";

}  // namespace

TEST(TextCase, PythonCapitalize) {
  EXPECT_EQ(py_capitalize("the Quick brown fox near Paris"), "The quick brown fox near paris");
  EXPECT_EQ(py_capitalize("i asked HER in 1984"), "I asked her in 1984");
  EXPECT_EQ(py_capitalize("\"quoted\" Word"), "\"quoted\" word");
  EXPECT_EQ(py_capitalize("élan VITAL À Paris"), "Élan vital à paris");
  EXPECT_EQ(py_capitalize("ΟΔΥΣΣΕΥΣ"), "Οδυσσευς");  // final sigma, as Python's lower()
  EXPECT_EQ(py_capitalize("ПРИВЕТ Мир"), "Привет мир");
  EXPECT_EQ(py_capitalize(""), "");
  EXPECT_EQ(upper_first("élan Vital"), "Élan Vital");
  EXPECT_EQ(py_rstrip("end...", "."), "end");
  EXPECT_EQ(py_strip("  a b \n"), "a b");
  // Invalid UTF-8 passes through unchanged instead of failing.
  EXPECT_EQ(py_capitalize(std::string("\xff" "ABC")), std::string("\xff" "abc"));
}

TEST(Sentences, RuleBasedSplitter) {
  const auto w = words_of(kText);
  const auto starts = sentence_starts_by_rules(w);
  ASSERT_EQ(starts.size(), 5u);
  EXPECT_EQ(w[starts[1]].text, "I");
  EXPECT_EQ(w[starts[2]].text, "The");
  EXPECT_EQ(w[starts[3]].text, "Numbers");
  EXPECT_EQ(w[starts[4]].text, "Finally,");
  // Abbreviations, initials and lower-case continuations do not end sentences.
  const std::string next_upper = "Smith";
  const std::string next_lower = "and";
  EXPECT_FALSE(ends_sentence("Mr.", &next_upper));
  EXPECT_FALSE(ends_sentence("J.", &next_upper));
  EXPECT_FALSE(ends_sentence("U.S.", &next_upper));
  EXPECT_FALSE(ends_sentence("e.g.", &next_lower));
  EXPECT_FALSE(ends_sentence("3.5,", &next_upper));
  EXPECT_FALSE(ends_sentence("said.", &next_lower));
  EXPECT_TRUE(ends_sentence("said.", &next_upper));
  EXPECT_TRUE(ends_sentence("said.\"", &next_upper));
  EXPECT_TRUE(ends_sentence("wait...", &next_upper));
  EXPECT_TRUE(ends_sentence("really?!", &next_lower));
  EXPECT_TRUE(ends_sentence("end.", nullptr));
  EXPECT_TRUE(ends_sentence("1984.", &next_upper));
}

TEST(Sentences, AddTextCapitalizeAndSentenceChars) {
  auto w = words_of(kText);
  const auto ts = add_text_and_sentences(w, sentence_starts_by_rules(w), TextCase::Capitalize);
  // neuralset 0.0.2: sentence.capitalize().rstrip("."), joined with ". ".
  EXPECT_EQ(ts.text.text,
            "What brings you to the land of the gatekeepers?. I asked her in 1984, and she didn't answer. The quick "
            "brown fox jumps over the lazy dog near paris. Numbers like 31415 and 27 matter; so do names such as "
            "o'neil and mcdonald's!. Finally, the end");
  EXPECT_DOUBLE_EQ(ts.text.start, 0.25);
  EXPECT_DOUBLE_EQ(ts.text.duration, w.back().stop() - 0.25);
  // Every word: its sentence is a substring of the Text with the trailing whitespace, and the
  // word sits at sentence_char (case aside).
  std::size_t pos = 0;
  std::string prev;
  for (const auto& word : w) {
    ASSERT_TRUE(word.sentence_char.has_value()) << word.text;
    if (word.sentence != prev) {
      const auto found = ts.text.text.find(word.sentence, pos);
      ASSERT_NE(found, std::string::npos) << word.sentence;
      pos = found + word.sentence.size();
      prev = word.sentence;
    }
    const std::string at = word.sentence.substr(static_cast<std::size_t>(*word.sentence_char), word.text.size());
    EXPECT_EQ(py_lower(py_rstrip(at, ".")), py_lower(py_rstrip(word.text, "."))) << word.text;
  }
  EXPECT_EQ(w[0].sentence, "What brings you to the land of the gatekeepers?. ");
  EXPECT_EQ(w.back().sentence, "Finally, the end");
  ASSERT_EQ(ts.sentences.size(), 5u);
  EXPECT_DOUBLE_EQ(ts.sentences[0].start, 0.25 - 1e-6);
  EXPECT_EQ(ts.sentences[1].text, "I asked her in 1984, and she didn't answer. ");
}

TEST(Sentences, ContextsOnPunctuationNumbersAndCapitals) {
  auto w = words_of(kText);
  add_text_and_sentences(w, sentence_starts_by_rules(w), TextCase::Capitalize);
  add_context(w, 1024);
  auto ctx_of = [&](const std::string& text) {
    for (const auto& x : w)
      if (x.text == text) return x.context;
    return std::string("<none>");
  };
  EXPECT_EQ(w[0].context, "What");
  EXPECT_EQ(w[1].context, "What brings");
  EXPECT_EQ(ctx_of("gatekeepers?"), "What brings you to the land of the gatekeepers?");
  // The next sentence's context carries the previous one with AddText's "." and space.
  EXPECT_EQ(ctx_of("I"), "What brings you to the land of the gatekeepers?. I");
  EXPECT_EQ(ctx_of("1984,"), "What brings you to the land of the gatekeepers?. I asked her in 1984,");
  // Mid-sentence capitals are lowered by capitalize() (Q4).
  EXPECT_NE(ctx_of("Quick").find("The quick"), std::string::npos);
  const std::string paris = ctx_of("Paris.");
  EXPECT_EQ(paris.substr(paris.size() - 11), "near paris.");
  EXPECT_NE(ctx_of("McDonald's!").find("o'neil and mcdonald's!"), std::string::npos);
  // The last word: "end." is cut to the sentence, which lost its '.' to rstrip.
  EXPECT_EQ(w.back().context.substr(w.back().context.size() - 16), "Finally, the end");
  // Max context length counts word parts.
  auto w8 = words_of(kText);
  add_text_and_sentences(w8, sentence_starts_by_rules(w8), TextCase::Capitalize);
  add_context(w8, 8);
  EXPECT_EQ(w8.back().context, "names such as o'neil and mcdonald's!. Finally, the end");
}

TEST(Sentences, UpperFirstKeepsCapitals) {
  auto w = words_of(kText);
  const auto ts = add_text_and_sentences(w, sentence_starts_by_rules(w), TextCase::UpperFirst);
  EXPECT_EQ(ts.text.text,
            "What brings you to the land of the gatekeepers?. I asked her in 1984, and she didn't answer.. The Quick "
            "brown fox jumps over the lazy dog near Paris.. Numbers like 31415 and 27 matter; so do names such as "
            "O'Neil and McDonald's!. Finally, the end.");
  add_context(w, 1024);
  EXPECT_EQ(w.back().context.substr(w.back().context.size() - 17), "Finally, the end.");
}

TEST(Sentences, SegmentsAndLeadingPunctuation) {
  // Sentences from recogniser segments; a word starting with '(' points past it, as the
  // spaCy token upstream matches does.
  std::vector<Word> w = words_of("hello there (laughs) ok then");
  for (std::size_t i = 0; i < w.size(); ++i) w[i].sequence_id = i < 3 ? 0 : 1;
  const auto starts = sentence_starts_from_segments(w);
  ASSERT_EQ(starts, (std::vector<std::size_t>{0, 3}));
  const auto ts = add_text_and_sentences(w, starts, TextCase::Capitalize);
  EXPECT_EQ(ts.text.text, "Hello there (laughs). Ok then");
  EXPECT_EQ(*w[2].sentence_char, 13);
  EXPECT_EQ(w[3].sentence, "Ok then");
}

TEST(Sentences, ExtractSentencesMergesAFinalOneWordSentenceAsUpstream) {
  std::vector<Word> w = words_of("One two. Three");
  add_text_and_sentences(w, {0, 2}, TextCase::Capitalize);
  const auto s = extract_sentences(w);
  // neuralset's _extract_sentences appends the last word before testing for a new sentence,
  // so the final one-word sentence is folded into the previous Sentence event.
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].start + s[0].duration, w.back().stop() + 1e-6);
  std::vector<Word> w2 = words_of("One two. Three four");
  add_text_and_sentences(w2, {0, 2}, TextCase::Capitalize);
  EXPECT_EQ(extract_sentences(w2).size(), 2u);
}

TEST(WordEvents, WholeChainOnAWhisperTranscript) {
  Transcript t;
  t.has_segments = true;
  t.words = words_of("hello world. how are you");
  for (std::size_t i = 0; i < t.words.size(); ++i) t.words[i].sequence_id = i < 2 ? 0 : 1;
  Events ev;
  const std::vector<MediaEvent> chunks = {{"Audio", "a.wav", 0.0, 0.0, 10.0, 16000.0}};
  const auto rep = add_word_events(ev, t, chunks, {});
  EXPECT_EQ(rep.sentences_used, SentenceSource::Segments);
  ASSERT_EQ(ev.words.size(), 5u);
  EXPECT_EQ(ev.words[2].context, "Hello world. How");
  EXPECT_EQ(ev.spans.front().type, "Text");
  EXPECT_EQ(ev.spans.front().text, "Hello world. How are you");
  WordEventOptions seg;
  seg.sentences = SentenceSource::Segments;
  Transcript no_seg = t;
  no_seg.has_segments = false;
  Events ev2;
  EXPECT_THROW_MSG(add_word_events(ev2, no_seg, chunks, seg), "has no recogniser segments");
}
