// Core's portable softmax (the non-AVX-512 path the V-JEPA2 encoder's attention runs on) against an
// exact softmax and core's scalar kernel. The encoder's GEMMs and attention are core's
// (tests/core: test_gemm, test_attention).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/core/context.hpp"
#include "tribev2/core/dtype.hpp"

namespace tribev2::features::video {
namespace {

std::vector<float> random_vec(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace
}  // namespace tribev2::features::video

#include "kernels_simd.hpp"
#include "tribev2/core/kernels.hpp"

namespace tribev2::features::video {
namespace {

TEST(VideoFastMath, SoftmaxMatchesCoreOnOddSizes) {
  // Against an exact (double) softmax; core's scalar kernel (the reference twin) sums in one
  // float accumulator, so it is itself ~1e-6 off on long rows: both are checked.
  std::mt19937 rng(5);
  for (int cols : {1, 3, 15, 16, 17, 1023, 8192})
    for (float spread : {0.1f, 5.0f, 40.0f}) {
      auto x = random_vec(static_cast<std::size_t>(3 * cols), rng, spread);
      auto y = x;
      std::vector<double> exact(x.size());
      for (int r = 0; r < 3; ++r) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < cols; ++j) mx = std::max(mx, double(x[static_cast<std::size_t>(r * cols + j)]));
        for (int j = 0; j < cols; ++j) sum += std::exp(double(x[static_cast<std::size_t>(r * cols + j)]) - mx);
        for (int j = 0; j < cols; ++j)
          exact[static_cast<std::size_t>(r * cols + j)] = std::exp(double(x[static_cast<std::size_t>(r * cols + j)]) - mx) / sum;
      }
      tribev2::detail::softmax_rows_portable(x.data(), 3, cols, cols, 1.0f);
      kernels::softmax_rows(y.data(), 3, cols, cols);
      // float rounding of (x - max) alone moves exp by |x - max| * 6e-8 relative; float sums of
      // 8192 terms add ~1e-6 (16 lanes here, one accumulator in core).
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double arg = -std::log(std::max(exact[i], 1e-300));
        ASSERT_NEAR(x[i], exact[i], (3e-6 + 1.2e-7 * arg) * exact[i] + 1e-37) << "fast " << cols << " " << i;
        ASSERT_NEAR(y[i], exact[i], (1e-4 + 1.2e-7 * arg) * exact[i] + 1e-37) << "core " << cols << " " << i;
      }
    }
  // Rows with -inf entries (masked) and an all -inf row behave as core's.
  std::vector<float> m{-INFINITY, 1.0f, -INFINITY, 2.0f, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  auto n = m;
  tribev2::detail::softmax_rows_portable(m.data(), 2, 4, 4, 1.0f);
  kernels::softmax_rows(n.data(), 2, 4, 4);
  for (std::size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], n[i], 1e-7);
}

}  // namespace
}  // namespace tribev2::features::video
