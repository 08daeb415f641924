// Kernels against formulas evaluated in double in the test.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tribev2/core/kernels.hpp"

using namespace tribev2;

namespace {
std::vector<float> rnd(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
}  // namespace

TEST(Kernels, LayerNormMatchesFormula) {
  Context ctx(2);
  for (std::int64_t dim : {1, 3, 17, 1023}) {
    const std::int64_t rows = 5;
    auto x = rnd(static_cast<std::size_t>(rows * dim), 1, 3.0f);
    auto g = rnd(static_cast<std::size_t>(dim), 2), b = rnd(static_cast<std::size_t>(dim), 3);
    std::vector<float> y(x.size());
    kernels::layer_norm(ctx, x.data(), y.data(), rows, dim, g.data(), b.data(), 1e-5f);
    for (std::int64_t r = 0; r < rows; ++r) {
      double m = 0, v = 0;
      for (std::int64_t i = 0; i < dim; ++i) m += x[r * dim + i];
      m /= dim;
      for (std::int64_t i = 0; i < dim; ++i) v += (x[r * dim + i] - m) * (x[r * dim + i] - m);
      v /= dim;
      for (std::int64_t i = 0; i < dim; ++i) {
        const double e = (x[r * dim + i] - m) / std::sqrt(v + 1e-5) * g[i] + b[i];
        EXPECT_NEAR(y[r * dim + i], e, 1e-5 * (1 + std::abs(e)));
      }
    }
  }
}

TEST(Kernels, ScaleNormAndRmsNorm) {
  Context ctx(1);
  const float x[] = {3, 4};  // ||x|| = 5
  float y[2];
  kernels::scale_norm(ctx, x, y, 1, 2, 2.0f);
  EXPECT_FLOAT_EQ(y[0], 3.0f / 5.0f * std::sqrt(2.0f) * 2.0f);
  const float z[] = {0, 0};
  kernels::scale_norm(ctx, z, y, 1, 2, 1.0f);  // clamp at 1e-12: zeros stay zeros
  EXPECT_EQ(y[0], 0.0f);
  const float w[] = {2, 0.5f};
  kernels::rms_norm(ctx, x, y, 1, 2, w, 0.0f);
  const float rms = std::sqrt((9.0f + 16.0f) / 2.0f);
  EXPECT_FLOAT_EQ(y[0], 2 * 3 / rms);
  EXPECT_FLOAT_EQ(y[1], 0.5f * 4 / rms);
}

TEST(Kernels, Activations) {
  Context ctx(1);
  float g[] = {-1.0f, 0.0f, 1.0f, 3.0f};
  kernels::gelu_erf(ctx, g, 4);
  EXPECT_NEAR(g[0], -0.15865525393145707, 1e-7);
  EXPECT_NEAR(g[2], 0.8413447460685429, 1e-7);
  EXPECT_NEAR(g[3], 2.9959502669946895, 1e-6);
  float s[] = {-2.0f, 0.0f, 2.0f};
  kernels::silu(ctx, s, 3);
  EXPECT_NEAR(s[0], -2.0 / (1 + std::exp(2.0)), 1e-7);
  EXPECT_EQ(s[1], 0.0f);
  float e[] = {-1.0f, 2.0f};
  kernels::elu(ctx, e, 2);
  EXPECT_NEAR(e[0], std::expm1(-1.0), 1e-7);
  EXPECT_EQ(e[1], 2.0f);
}

TEST(Kernels, SoftmaxRows) {
  float x[] = {1, 2, 3, 1000, 1000, 1000};
  kernels::softmax_rows(x, 2, 3, 3);
  const double d = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(x[2], std::exp(2.0) / d, 1e-7);
  EXPECT_NEAR(x[3], 1.0 / 3.0, 1e-7);  // no overflow
}

TEST(Kernels, RopeRotateHalfPartial) {
  Context ctx(1);
  // one position, 1 head, head_dim 6, rot_dim 4 -> pairs (0,2), (1,3); 4,5 untouched
  float x[] = {1, 2, 3, 4, 5, 6};
  const float c[] = {std::cos(0.5f), std::cos(0.25f)};
  const float s[] = {std::sin(0.5f), std::sin(0.25f)};
  kernels::rope_rotate_half(ctx, x, 1, 6, 1, 6, 4, c, s);
  EXPECT_NEAR(x[0], 1 * c[0] - 3 * s[0], 1e-6);
  EXPECT_NEAR(x[2], 3 * c[0] + 1 * s[0], 1e-6);
  EXPECT_NEAR(x[1], 2 * c[1] - 4 * s[1], 1e-6);
  EXPECT_NEAR(x[3], 4 * c[1] + 2 * s[1], 1e-6);
  EXPECT_EQ(x[4], 5);
  EXPECT_EQ(x[5], 6);
}

TEST(Kernels, AdaptiveAvgPoolBins) {
  // T = 5 -> To = 3: bins [0,2), [1,4), [3,5) (PyTorch's floor/ceil rule; bins overlap)
  const float x[] = {1, 2, 3, 4, 5};
  float y[3];
  kernels::adaptive_avg_pool(x, y, 1, 5, 3, 1);
  EXPECT_FLOAT_EQ(y[0], 1.5f);
  EXPECT_FLOAT_EQ(y[1], 3.0f);
  EXPECT_FLOAT_EQ(y[2], 4.5f);
  // T = 200 -> 100: pairs
  std::vector<float> a(200), b(100);
  for (int i = 0; i < 200; ++i) a[i] = static_cast<float>(i);
  kernels::adaptive_avg_pool(a.data(), b.data(), 1, 200, 100, 1);
  EXPECT_FLOAT_EQ(b[7], 14.5f);
}
