// Media chunking with words (52, 100 and 130 s inputs), Q1 (duplicated words >= 90 s), the
// timeline bounds of the dummy event (Q7), RemoveMissing and events.tsv.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/events/word_events.hpp"

using namespace tribev2;
using namespace tribev2::events;

namespace {

// One word every second from 0.5 s to the end of a `duration` s recording, in sentences of 5.
Transcript transcript_for(double duration) {
  Transcript t;
  t.has_segments = true;
  int i = 0;
  for (double s = 0.5; s + 0.4 <= duration; s += 1.0, ++i) {
    Word w;
    w.text = (i % 5 == 4) ? "end." : "word";
    w.start = s;
    w.duration = 0.4;
    w.sequence_id = i / 5;
    t.words.push_back(w);
  }
  return t;
}

Events build(double duration, WordPlacement placement) {
  Events ev;
  const MediaEvent audio{"Audio", "a.wav", 0.0, 0.0, duration, 44100.0};
  const auto chunks = chunk_media(audio);
  ev.media = chunks;
  WordEventOptions o;
  o.placement = placement;
  add_word_events(ev, transcript_for(duration), chunks, o);
  return ev;
}

std::vector<double> chunk_durations(const Events& ev) {
  std::vector<double> d;
  for (const auto& m : ev.media) d.push_back(m.duration);
  return d;
}

}  // namespace

TEST(EventTable, ChunksOf52_100_130Seconds) {
  for (auto placement : {WordPlacement::Corrected, WordPlacement::ReferenceQuirk}) {
    const Events e52 = build(52.0, placement);
    EXPECT_EQ(chunk_durations(e52), (std::vector<double>{52.0}));
    EXPECT_EQ(e52.words.size(), 52u);  // one chunk: identical in both modes
    const Events e100 = build(100.0, placement);
    EXPECT_EQ(chunk_durations(e100), (std::vector<double>{60.0, 40.0}));
    EXPECT_DOUBLE_EQ(e100.media[1].start, 60.0);
    EXPECT_DOUBLE_EQ(e100.media[1].offset, 60.0);
    const Events e130 = build(130.0, placement);
    EXPECT_EQ(chunk_durations(e130), (std::vector<double>{60.0, 70.0}));
  }
}

TEST(EventTable, CorrectedPlacementAddsEachWordOnce) {
  const Events e = build(130.0, WordPlacement::Corrected);
  ASSERT_EQ(e.words.size(), 130u);
  for (std::size_t i = 0; i < e.words.size(); ++i) EXPECT_DOUBLE_EQ(e.words[i].start, 0.5 + static_cast<double>(i));
  EXPECT_DOUBLE_EQ(e.stop(), 130.0);
  EXPECT_DOUBLE_EQ(e.start(), 0.0);
}

TEST(EventTable, ReferenceQuirkDuplicatesWordsPerChunk) {
  // upstream: the whole transcript is copied onto every chunk with start += chunk.start +
  // chunk.offset, i.e. shifted by 0 and 120 s for a 100 s input (reference-semantics 1.4).
  const Events e = build(100.0, WordPlacement::ReferenceQuirk);
  ASSERT_EQ(e.words.size(), 200u);
  EXPECT_DOUBLE_EQ(e.words[100].start, 120.5);
  EXPECT_DOUBLE_EQ(e.words.back().start, 219.5);
  EXPECT_NEAR(e.stop(), 219.9 + 1e-6, 1e-9);  // past the end of the media (the last Sentence event)
  // The copies are separate sentences: the context of the first copied word restarts its
  // sentence but keeps the whole first copy before it (max_context_len 1024).
  EXPECT_EQ(e.words[100].context.substr(0, 5), "Word ");
  EXPECT_GT(e.words[100].context.size(), 400u);
  const Events c = build(100.0, WordPlacement::Corrected);
  EXPECT_EQ(c.words.size(), 100u);
  EXPECT_DOUBLE_EQ(c.stop(), 100.0);
}

TEST(EventTable, TimelineStartsAtMinusEpsilonWhenAWordStartsAtZero) {
  Events ev;
  ev.media = {{"Audio", "a.wav", 0.0, 0.0, 3.0, 16000.0}};
  Transcript t;
  t.words = {{"Hi", 0.0, 0.5, "", std::nullopt, 0, ""}, {"there.", 0.6, 0.5, "", std::nullopt, 0, ""}};
  add_word_events(ev, t, ev.media, {});
  // Q7: the Sentence event starts 1e-6 s before its first word.
  EXPECT_DOUBLE_EQ(ev.start(), -1e-6);
  EXPECT_DOUBLE_EQ(ev.stop(), 3.0);
}

TEST(EventTable, RemoveMissingAndSort) {
  std::vector<Word> w(3);
  w[0] = {"b", 2.0, 0.1, "", std::nullopt, 0, "a b"};
  w[1] = {"a", 1.0, 0.1, "", std::nullopt, 0, ""};
  w[2] = {"c", 1.0, 0.1, "", std::nullopt, 0, "c"};
  EXPECT_EQ(remove_missing(w), 1u);
  sort_words(w);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].text, "c");
}

TEST(EventTable, EventsTsv) {
  Events ev = build(4.0, WordPlacement::Corrected);
  const std::string tsv = format_events_tsv(ev);
  const auto header_end = tsv.find('\n');
  EXPECT_EQ(tsv.substr(0, header_end),
            "type\tstart\tduration\tstop\ttimeline\tsubject\tfilepath\toffset\tfrequency\ttext\tlanguage\tsentence\t"
            "sentence_char\tcontext\tsequence_id");
  // Sorted by start: the Audio event at 0, then the Sentence (start - 1e-6) before its Text
  // and first Word; the dummy CategoricalEvent last.
  std::vector<std::string> types;
  std::size_t p = header_end + 1;
  while (p < tsv.size()) {
    const auto tab = tsv.find('\t', p);
    types.push_back(tsv.substr(p, tab - p));
    p = tsv.find('\n', p) + 1;
  }
  ASSERT_GE(types.size(), 5u);
  EXPECT_EQ(types[0], "Audio");
  EXPECT_EQ(types[1], "Sentence");
  EXPECT_EQ(types[2], "Text");
  EXPECT_EQ(types[3], "Word");
  EXPECT_EQ(types.back(), "CategoricalEvent");
  // Every row has the same number of fields.
  std::size_t line_start = 0;
  while (line_start < tsv.size()) {
    const auto end = tsv.find('\n', line_start);
    const std::string line = tsv.substr(line_start, end - line_start);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 14) << line;
    line_start = end + 1;
  }
}
