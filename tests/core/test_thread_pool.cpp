#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/thread_pool.hpp"

using namespace tribev2;

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (std::int64_t n : {0, 1, 7, 1000, 100003}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      pool.parallel_for(n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << threads << " " << n;
    }
  }
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(3);
  std::atomic<std::int64_t> total{0};
  pool.parallel_for(10, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i)
      pool.parallel_for(100, [&](std::int64_t b2, std::int64_t e2) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 1000);
}

TEST(ThreadPool, PropagatesExceptionsAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100, [](std::int64_t b, std::int64_t) {
    if (b >= 50) throw Error("boom");
  }), Error);
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](std::int64_t b, std::int64_t e) { n += static_cast<int>(e - b); });
  EXPECT_EQ(n.load(), 10);
}

TEST(Context, ThreadsFromEnv) {
  setenv("TRIBEV2_NUM_THREADS", "3", 1);
  EXPECT_EQ(threads_from_env(7), 3);
  setenv("TRIBEV2_NUM_THREADS", "zero", 1);
  EXPECT_EQ(threads_from_env(7), 7);
  unsetenv("TRIBEV2_NUM_THREADS");
  EXPECT_EQ(threads_from_env(5), 5);
  Context ctx(2);
  EXPECT_EQ(ctx.threads(), 2);
}
