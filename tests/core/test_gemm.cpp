// gemm() (BLAS tiles over the pool, half-precision operands widened blockwise) against the
// naive reference twin, on awkward sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tribev2/core/gemm.hpp"

using namespace tribev2;

namespace {
std::vector<float> rand_vec(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

void check(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, DType bt, float beta) {
  const auto A = rand_vec(static_cast<std::size_t>(M * K), 1);
  const auto Bf = rand_vec(static_cast<std::size_t>(N * K), 2);
  Tensor Bt = Tensor::from<float>(trans_b ? Shape{N, K} : Shape{K, N}, Bf).to(bt);
  std::vector<float> C1 = rand_vec(static_cast<std::size_t>(M * N), 3), C2 = C1;
  const MatView B = mat_view(Bt);
  gemm(ctx, trans_b, M, N, K, A.data(), K, B, beta, C1.data(), N);
  reference::gemm(trans_b, M, N, K, A.data(), K, B, beta, C2.data(), N);
  double mx = 0;
  for (std::size_t i = 0; i < C1.size(); ++i) mx = std::max(mx, static_cast<double>(std::abs(C1[i] - C2[i])));
  // float32 rounding of K-term sums in different orders: a few ulps of sqrt(K)-sized values.
  EXPECT_LE(mx, 1e-5 * std::sqrt(static_cast<double>(K)) * 10) << M << "x" << N << "x" << K << " trans=" << trans_b;
}
}  // namespace

TEST(Gemm, MatchesReferenceOnOddSizes) {
  Context ctx(2);
  for (bool tb : {true, false})
    for (auto [M, N, K] : std::vector<std::array<std::int64_t, 3>>{{1, 1, 1}, {3, 17, 5}, {17, 1023, 13}, {1023, 65, 7}, {200, 130, 96}})
      for (DType dt : {DType::F32, DType::F16, DType::BF16}) check(ctx, tb, M, N, K, dt, 0.0f);
}

TEST(Gemm, BetaAccumulates) {
  Context ctx(2);
  check(ctx, true, 5, 300, 33, DType::F32, 1.0f);
  check(ctx, false, 5, 300, 33, DType::BF16, 0.5f);
}

TEST(Gemm, LinearAddsBias) {
  Context ctx(1);
  const float x[] = {1, 2, 3, 4, 5, 6};       // [2, 3]
  const float w[] = {1, 0, 0, 0, 1, 1};       // [2, 3]
  const float b[] = {10, 20};
  Tensor W = Tensor::from<float>({2, 3}, w);
  float y[4];
  linear(ctx, x, 2, 3, mat_view(W), b, y, 2);
  EXPECT_FLOAT_EQ(y[0], 11);
  EXPECT_FLOAT_EQ(y[1], 25);
  EXPECT_FLOAT_EQ(y[2], 14);
  EXPECT_FLOAT_EQ(y[3], 31);
}

TEST(Gemm, RejectsTooSmallOperand) {
  Context ctx(1);
  Tensor W = Tensor::zeros(DType::F32, {2, 3});
  float x[8] = {}, y[8] = {};
  EXPECT_THROW(gemm(ctx, true, 1, 4, 3, x, 3, mat_view(W), 0.0f, y, 4), Error);
}
