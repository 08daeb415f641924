// Kernels against formulas evaluated in double in the test.
#include <gtest/gtest.h>

#include "kernels_simd.hpp"
#include "tribev2/core/cpu_features.hpp"

#include <algorithm>
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

TEST(Kernels, LayerNormAvx512MatchesItsTwin) {
  // 16 double lanes against one running double sum: the mean of floats is exact in double
  // either way, the variance may differ in its last double bits, so the float results agree to
  // one float ulp (measured: all equal; the elementwise steps are not contracted into FMAs).
  if (cpu::features().hardware < cpu::Level::Avx512) GTEST_SKIP() << "this CPU has no AVX-512";
  int differ = 0;
  std::size_t total = 0;
  for (std::int64_t dim : {1, 7, 16, 17, 1024, 1408}) {
    const std::int64_t rows = 9;
    auto x = rnd(static_cast<std::size_t>(rows * dim), 5, 3.0f);
    for (auto& v : x) v += 2.5f;  // an offset: the second pass matters
    auto g = rnd(static_cast<std::size_t>(dim), 6), b = rnd(static_cast<std::size_t>(dim), 7);
    for (bool affine : {true, false}) {
      std::vector<float> fast(x.size()), twin(x.size());
      detail::layer_norm_avx512(x.data(), fast.data(), 0, rows, dim, affine ? g.data() : nullptr, affine ? b.data() : nullptr, 1e-5f);
      detail::layer_norm_portable(x.data(), twin.data(), 0, rows, dim, affine ? g.data() : nullptr, affine ? b.data() : nullptr, 1e-5f);
      for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_LE(std::abs(fast[i] - twin[i]), std::abs(twin[i]) * 1.2e-7f + 1e-30f) << dim << " " << i;
        differ += fast[i] != twin[i];
      }
      total += x.size();
    }
  }
  std::printf("layer norm, AVX-512 vs portable: %d of %zu values differ (at most one ulp allowed)\n", differ, total);
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

TEST(Kernels, SiluAndSigmoidGateMatchTheirTwins) {
  // The AVX-512 exp (Cephes polynomial, ~1 ulp) against std::exp in double, over the range the
  // networks see and the saturating ends (exp(-g) overflowing to inf must give 0, not NaN).
  std::vector<float> x, g;
  for (int i = -2000; i <= 2000; ++i) x.push_back(static_cast<float>(i) * 0.01f);
  for (const float v : {-200.0f, -104.0f, -88.8f, -88.7f, 88.7f, 89.0f, 200.0f}) x.push_back(v);
  for (std::size_t i = 0; i < x.size(); ++i) g.push_back(x[(i * 7919) % x.size()]);
  Context ctx(2);
  std::vector<float> a = x, b = x;
  kernels::silu(ctx, a.data(), static_cast<std::int64_t>(a.size()));
  kernels::reference::silu(b.data(), static_cast<std::int64_t>(b.size()));
  std::vector<float> c(x.size()), d(x.size());
  kernels::mul_sigmoid(x.data(), g.data(), c.data(), static_cast<std::int64_t>(x.size()));
  kernels::reference::mul_sigmoid(x.data(), g.data(), d.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_TRUE(std::isfinite(a[i]) && std::isfinite(c[i])) << x[i] << " " << g[i];
    EXPECT_NEAR(a[i], b[i], 4e-7 * std::max(1.0f, std::fabs(b[i]))) << "silu(" << x[i] << ")";
    EXPECT_NEAR(c[i], d[i], 4e-7 * std::max(1.0f, std::fabs(d[i]))) << x[i] << " * sigmoid(" << g[i] << ")";
  }
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

// ---- vectorised kernels against their plain twins (kernels::reference) ----

// THE GELU (one for every network) against its std::erf twin: odd sizes through the pool,
// and a dense sweep of [-20, 20] with the extremes. The fit's erf errs by <= 2.4e-9, so GELU
// agrees to float rounding: 2 ulps of the result, and where 1 + erf loses its digits (x < -3)
// one float step of erf near -1 scaled by |x| / 2, within 2.5e-7.
TEST(KernelsFast, geluOneVersionMatchesStdErfTwin) {
  Context ctx(2);
  auto check = [](const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& yr) {
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(y[i], yr[i], 2.5e-7 * std::max(1.0f, std::abs(yr[i]))) << "x=" << x[i];
  };
  for (std::int64_t n : {1, 3, 17, 1023, 100003}) {
    auto x = rnd(static_cast<std::size_t>(n), 41, 4.0f);
    if (n > 10) x[3] = -30.0f, x[4] = 30.0f, x[5] = 0.0f, x[6] = -1e-30f;
    auto y = x, yr = x;
    kernels::gelu_erf(ctx, y.data(), n);
    kernels::reference::gelu_erf(yr.data(), n);
    check(x, y, yr);
  }
  std::vector<float> x;
  for (float v = -20.0f; v <= 20.0f; v += 1.0f / 512) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-20f, -3e-8f, 1e30f, -1e30f, -5.5f, -9.0f}) x.push_back(v);
  auto y = x, yr = x;
  kernels::gelu_erf(ctx, y.data(), static_cast<std::int64_t>(y.size()));
  kernels::reference::gelu_erf(yr.data(), static_cast<std::int64_t>(yr.size()));
  check(x, y, yr);
  EXPECT_EQ(y[y.size() - 3], -0.0f);  // gelu(-1e30) = -0 (erf = -1 exactly)
}

TEST(KernelsFast, SoftmaxScaledMatchesTwinWithMasks) {
  for (std::int64_t cols : {1, 3, 17, 1023}) {
    const std::int64_t rows = 4, ld = cols + 5;
    auto x = rnd(static_cast<std::size_t>(rows * ld), 42, 5.0f);
    for (std::int64_t j = cols / 2 + 1; j < cols; ++j) x[static_cast<std::size_t>(ld + j)] = -INFINITY;  // row 1: masked tail
    for (std::int64_t j = 0; j < cols; ++j) x[static_cast<std::size_t>(2 * ld + j)] = -INFINITY;      // row 2: all masked
    auto y = x, yr = x;
    kernels::softmax_rows_scaled(y.data(), rows, cols, ld, 0.083f);
    kernels::reference::softmax_rows_scaled(yr.data(), rows, cols, ld, 0.083f);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < cols; ++j) {
        const auto i = static_cast<std::size_t>(r * ld + j);
        EXPECT_NEAR(y[i], yr[i], 2e-6 * std::max(1.0f, yr[i])) << "row " << r << " col " << j;
        if (std::isinf(x[i])) {
          EXPECT_EQ(y[i], 0.0f);
        }
      }
  }
}

TEST(KernelsFast, TransposeMatchesTwin) {
  Context ctx(2);
  for (auto [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {3, 17}, {17, 3}, {1023, 33}, {40, 1023}}) {
    const auto src = rnd(static_cast<std::size_t>(rows * (cols + 2)), 43);
    std::vector<float> d1(static_cast<std::size_t>(cols * (rows + 1)), 7.0f), d2 = d1;
    kernels::transpose(ctx, src.data(), rows, cols, cols + 2, d1.data(), rows + 1);
    kernels::reference::transpose(src.data(), rows, cols, cols + 2, d2.data(), rows + 1);
    EXPECT_EQ(d1, d2) << rows << "x" << cols;
  }
}

TEST(KernelsFast, ScaleNormMatchesTwin) {
  Context ctx(2);
  for (std::int64_t dim : {1, 3, 17, 1023}) {
    const std::int64_t rows = 7;
    const auto x = rnd(static_cast<std::size_t>(rows * dim), 44, 2.0f);
    std::vector<float> y(x.size()), yr(x.size());
    kernels::scale_norm(ctx, x.data(), y.data(), rows, dim, 1.3f);
    kernels::reference::scale_norm(x.data(), yr.data(), rows, dim, 1.3f);
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], yr[i], 1e-6 * std::max(1.0f, std::abs(yr[i])));
  }
}
