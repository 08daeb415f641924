// The conformer kernels against their reference twins on awkward sizes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tribev2/features/audio/conformer_kernels.hpp"

using namespace tribev2;
namespace ak = tribev2::features::audio::kernels;

namespace {
std::vector<float> rnd(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
}  // namespace

TEST(ConformerKernels, GluMatchesReference) {
  const Context ctx(3);
  for (const std::int64_t T : {1, 3, 17, 1023})
    for (const std::int64_t C : {1, 7, 33}) {
      const auto x = rnd(static_cast<std::size_t>(T * 2 * C), static_cast<unsigned>(T * C));
      std::vector<float> a(static_cast<std::size_t>(T * C)), b(a.size());
      ak::glu(ctx, x.data(), T, C, a.data());
      ak::reference::glu(x.data(), T, C, b.data());
      for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6f * (1.0f + std::abs(b[i]))) << T << "x" << C;
    }
}

TEST(ConformerKernels, DepthwiseCausalConvMatchesReference) {
  const Context ctx(3);
  for (const std::int64_t T : {1, 3, 17, 40, 1023})
    for (const std::int64_t C : {1, 5, 33})
      for (const int K : {1, 3, 31}) {
        const auto x = rnd(static_cast<std::size_t>(T * C), 1u + static_cast<unsigned>(T));
        const auto w = rnd(static_cast<std::size_t>(K * C), 2u + static_cast<unsigned>(K));
        std::vector<float> a(x.size()), b(x.size());
        ak::depthwise_causal_conv(ctx, x.data(), T, C, w.data(), K, a.data());
        ak::reference::depthwise_causal_conv(x.data(), T, C, w.data(), K, b.data());
        for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5f) << T << "x" << C << " K" << K;
      }
  // Causality: changing the last input row changes only the last output row.
  const std::int64_t T = 9, C = 2;
  const int K = 4;
  auto x = rnd(T * C, 5);
  const auto w = rnd(K * C, 6);
  std::vector<float> a(x.size()), b(x.size());
  ak::depthwise_causal_conv(ctx, x.data(), T, C, w.data(), K, a.data());
  x[(T - 1) * C] += 1.0f;
  ak::depthwise_causal_conv(ctx, x.data(), T, C, w.data(), K, b.data());
  for (std::int64_t i = 0; i < (T - 1) * C; ++i) EXPECT_EQ(a[static_cast<std::size_t>(i)], b[static_cast<std::size_t>(i)]);
  EXPECT_NE(a[(T - 1) * C], b[(T - 1) * C]);
}

TEST(ConformerKernels, RelativeKeyBiasMatchesReference) {
  for (const auto& [left, right] : {std::pair{64, 8}, std::pair{2, 1}, std::pair{0, 0}, std::pair{3, 0}})
    for (const std::int64_t q0 : {0, 5, 100})
      for (const std::int64_t nq : {1, 3, 17})
        for (const std::int64_t nk : {1, 9, 80, 203})
          for (const std::int64_t k0 : {0, 7, 90, 256}) {  // a block of keys, rows of 211
            const std::int64_t width = left + right + 1, lds = 211;
            const auto P = rnd(static_cast<std::size_t>(nq * width), static_cast<unsigned>(q0 + nq));
            const auto s0 = rnd(static_cast<std::size_t>(nq * lds), static_cast<unsigned>(nk));
            auto a = s0, b = s0;
            ak::add_relative_key_bias(P.data(), q0, nq, k0, nk, lds, left, right, a.data());
            ak::reference::add_relative_key_bias(P.data(), q0, nq, k0, nk, lds, left, right, b.data());
            ASSERT_EQ(a, b) << left << "/" << right << " q0 " << q0 << " nq " << nq << " k0 " << k0 << " nk " << nk;
            for (std::int64_t i = 0; i < nq; ++i)  // nothing past the block's keys
              for (std::int64_t j = nk; j < lds; ++j) ASSERT_EQ(a[i * lds + j], s0[i * lds + j]);
          }
}
