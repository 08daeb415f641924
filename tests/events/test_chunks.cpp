#include <gtest/gtest.h>

#include "tribev2/events/chunks.hpp"

using namespace tribev2::events;

namespace {
std::vector<double> durations(double d) {
  std::vector<double> out;
  for (const auto& c : chunk_event(0.0, 0.0, d)) out.push_back(c.duration);
  return out;
}
}  // namespace

TEST(Chunks, UpstreamTable) {
  EXPECT_EQ(durations(52), (std::vector<double>{52}));
  EXPECT_EQ(durations(90), (std::vector<double>{60, 30}));
  EXPECT_EQ(durations(100), (std::vector<double>{60, 40}));
  EXPECT_EQ(durations(130), (std::vector<double>{60, 70}));
  EXPECT_EQ(durations(150), (std::vector<double>{60, 60, 30}));
  EXPECT_EQ(durations(60), (std::vector<double>{60}));
  EXPECT_EQ(durations(89.9), (std::vector<double>{89.9}));
}

TEST(Chunks, StartAndOffsetMoveTogether) {
  const auto c = chunk_event(2.0, 5.0, 100.0);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].start, 62.0);
  EXPECT_EQ(c[1].offset, 65.0);
}
