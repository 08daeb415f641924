// The grid rules against the slices recorded in the audio fixtures' meta.json, and the
// word-placement cases of reference-semantics section 2.2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/features/timeline.hpp"

using namespace tribev2;
using namespace tribev2::features;
using namespace tribev2::test;

TEST(Timeline, PyRoundIsHalfToEven) {
  EXPECT_EQ(py_round(2.5), 2.0);
  EXPECT_EQ(py_round(3.5), 4.0);
  EXPECT_EQ(py_round(-0.5), -0.0);
  EXPECT_EQ(segment_bins(4.3), 9);
  EXPECT_EQ(segment_bins(0.0), 1);
  EXPECT_EQ(segment_bins(100.0), 200);
}

TEST(Timeline, AudioFixtureSlices) {
  for (const char* c : {"mono16k", "stereo44k"}) {
    const auto meta = nlohmann::json::parse(read_bytes(fixture(std::string("audio_features/") + c + "/meta.json")));
    const auto n_out = meta["n_out"].get<std::int64_t>();
    const double ev = meta["event_start"].get<double>();
    for (const auto& s : meta["segments"]) {
      const double ss = s["segment_start"].get<double>(), sd = s["segment_duration"].get<double>();
      const std::int64_t T = segment_bins(sd);
      EXPECT_EQ(T, s["T"].get<std::int64_t>());
      const auto chunk = overlap_slice(ev, n_out, 2.0, ss, sd);
      ASSERT_TRUE(chunk);
      EXPECT_EQ(chunk->begin, s["chunk_slice"][0].get<std::int64_t>());
      EXPECT_EQ(chunk->begin + chunk->length, s["chunk_slice"][1].get<std::int64_t>());
      // Place the sub-array (the chunk's slice) on the buffer: both-side rule.
      const double sub_start = ev + static_cast<double>(chunk->begin) / 2.0;
      EXPECT_DOUBLE_EQ(sub_start, s["sub_start"].get<double>());
      std::vector<float> sub(static_cast<std::size_t>(chunk->length), 1.0f), buf(static_cast<std::size_t>(T), 0.0f);
      const auto g = add_array(buf.data(), 1, T, ss, sub.data(), chunk->length, sub_start);
      ASSERT_TRUE(g);
      EXPECT_EQ(g->begin, s["grid_slice"][0].get<std::int64_t>());
      EXPECT_EQ(g->begin + g->length, s["grid_slice"][1].get<std::int64_t>());
    }
  }
}

TEST(Timeline, WordsOnTheGrid) {
  // A 0.3 s word at 10.1 s in the segment [10, 20): bin round(0.2) = 0, n = max(round(0.6), 1) = 1.
  std::vector<float> buf(20, 0.0f);
  const float one = 1.0f;
  auto s = add_event(buf.data(), 1, 20, 10.0, &one, 10.1, 0.3);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->begin, 0);
  EXPECT_EQ(s->length, 1);
  // Half-to-even: a word at 11.25 s -> round(2.5) = 2.
  s = add_event(buf.data(), 1, 20, 10.0, &one, 11.25, 0.2);
  EXPECT_EQ(s->begin, 2);
  // A word crossing the end is clamped to the last bins: [19.8, 20.8) -> i0 = round(19.6) = 20 -> 19.
  s = add_event(buf.data(), 1, 20, 10.0, &one, 19.8, 1.0);
  EXPECT_EQ(s->begin, 19);
  EXPECT_EQ(s->length, 1);
  // A word that ends where the segment starts does not overlap.
  EXPECT_FALSE(add_event(buf.data(), 1, 20, 10.0, &one, 9.5, 0.5));
  // Long words cover several bins and sum with others.
  std::vector<float> b2(8, 0.0f);
  add_event(b2.data(), 1, 8, 0.0, &one, 0.0, 1.6);  // n = round(3.2) = 3
  add_event(b2.data(), 1, 8, 0.0, &one, 1.0, 0.2);
  EXPECT_EQ(b2, (std::vector<float>{1, 1, 2, 0, 0, 0, 0, 0}));
}
