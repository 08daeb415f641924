// The comparison helpers themselves: an output that is all NaN (or has a stray NaN/Inf) must fail
// every golden comparison, whatever the tolerance. Before these helpers a hand-rolled
// std::max(d, |a - b|) scored a NaN output 0.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "support/test_support.hpp"

using namespace tribev2;
using namespace tribev2::test;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor tensor(const std::vector<float>& v) { return Tensor::from<float>({static_cast<std::int64_t>(v.size())}, std::span<const float>(v)); }
Tensor tensor2(const std::vector<float>& v, std::int64_t rows) {
  return Tensor::from<float>({rows, static_cast<std::int64_t>(v.size()) / rows}, std::span<const float>(v));
}

// Every way a test compares `got` with `expected`; all must say "not close" (a value no
// tolerance accepts) for the inputs below.
std::vector<double> every_helper(const std::vector<float>& got, const std::vector<float>& expected) {
  std::vector<double> out;
  out.push_back(max_abs_diff(tensor(got), tensor(expected)));
  out.push_back(max_rel_diff(tensor(got), tensor(expected)));
  out.push_back(max_abs_diff(got, expected));
  out.push_back(max_rel_diff(got, expected));
  MaxDiff d;
  for (std::size_t i = 0; i < got.size(); ++i) d.add(got[i], expected[i]);
  out.push_back(d.abs());
  out.push_back(d.rel());
  double worst_slice = 0.0;  // the per-slice form is used as "every slice within tolerance"
  for (double r : rel_diff_per_slice(tensor2(got, 2), tensor2(expected, 2))) worst_slice = std::max(worst_slice, r);
  out.push_back(worst_slice);
  return out;
}

}  // namespace

TEST(CompareHelpers, AllNaNOutputFailsEveryHelper) {
  const std::vector<float> expected = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -4.0f};
  const std::vector<float> got(expected.size(), kNaN);
  for (double v : every_helper(got, expected)) {
    EXPECT_TRUE(std::isinf(v) && v > 0) << v;
    EXPECT_FALSE(v <= 1e30) << "a NaN output would pass a tolerance";
  }
}

TEST(CompareHelpers, NaNOnEitherSideOrBothFails) {
  const std::vector<float> a = {0.5f, -1.0f, 2.0f, 0.0f};
  std::vector<float> one = a;
  one[2] = kNaN;
  for (double v : every_helper(one, a)) EXPECT_EQ(v, INFINITY) << "NaN in got";
  for (double v : every_helper(a, one)) EXPECT_EQ(v, INFINITY) << "NaN in expected";
  for (double v : every_helper(one, one)) EXPECT_EQ(v, INFINITY) << "NaN on both sides is not a match";
}

TEST(CompareHelpers, InfinityMustMatchExactly) {
  const std::vector<float> a = {0.5f, -1.0f, 2.0f, 1.0f};
  std::vector<float> inf = a, neg = a;
  inf[1] = kInf;
  neg[1] = -kInf;
  for (double v : every_helper(inf, a)) EXPECT_EQ(v, INFINITY);
  for (double v : every_helper(a, inf)) EXPECT_EQ(v, INFINITY);
  for (double v : every_helper(inf, neg)) EXPECT_EQ(v, INFINITY);
  // The same infinity on both sides is a match; the rest is compared as usual.
  EXPECT_EQ(max_abs_diff(inf, inf), 0.0);
  std::vector<float> inf2 = inf;
  inf2[0] = 0.75f;
  EXPECT_DOUBLE_EQ(max_abs_diff(inf2, inf), 0.25);
  EXPECT_DOUBLE_EQ(max_rel_diff(inf2, inf), 0.25 / 2.0) << "the scale is the largest finite |expected|";
}

TEST(CompareHelpers, FiniteValuesAsBefore) {
  const std::vector<float> e = {1.0f, -4.0f, 2.0f, 0.0f};
  const std::vector<float> g = {1.5f, -4.0f, 2.0f, 0.0f};
  EXPECT_DOUBLE_EQ(max_abs_diff(g, e), 0.5);
  EXPECT_DOUBLE_EQ(max_rel_diff(g, e), 0.5 / 4.0);
  EXPECT_EQ(max_rel_diff(e, e), 0.0);
  const std::vector<float> zeros(4, 0.0f);
  EXPECT_EQ(max_rel_diff(zeros, zeros), 0.0);
  EXPECT_EQ(max_rel_diff(g, zeros), INFINITY) << "all-zero golden: any difference is infinitely relative";
}

TEST(CompareHelpers, ShapeOrLengthMismatchFails) {
  double d = 0.0;
  EXPECT_NONFATAL_FAILURE(d = max_abs_diff(tensor({1, 2, 3}), tensor({1, 2})), "");
  EXPECT_EQ(d, INFINITY);
  const std::vector<float> a = {1, 2, 3}, b = {1, 2};
  EXPECT_NONFATAL_FAILURE(d = max_rel_diff(a, b), "differ in length");
  EXPECT_EQ(d, INFINITY);
}
