// The bf16 kernels of the V-JEPA2 encoder against their plain reference twins, on awkward sizes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "attention_bf16.hpp"
#include "support/test_support.hpp"
#include "bf16_gemm.hpp"
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

// |got - want| <= 1e-5 * sum_k |a_k b_k| + 1e-6 elementwise (float32 sums in another order).
void expect_gemm_close(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& a,
                       const std::vector<float>& b, std::int64_t M, std::int64_t N, std::int64_t K,
                       const char* what) {
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      double mag = 0.0;
      for (std::int64_t k = 0; k < K; ++k) mag += std::abs(double(round_bf16(a[i * K + k])) * round_bf16(b[j * K + k]));
      const double tol = 1e-5 * mag + 1e-6 + std::abs(double(want[i * N + j])) * 1e-6;
      ASSERT_NEAR(got[i * N + j], want[i * N + j], tol) << what << " M=" << M << " N=" << N << " K=" << K << " at " << i << "," << j;
    }
}

TEST(VideoBf16, PackedLayoutsAgree) {
  std::mt19937 rng(1);
  for (auto [n, k] : std::vector<std::pair<int, int>>{{1, 1}, {17, 33}, {16, 32}, {40, 100}}) {
    const auto b = random_vec(static_cast<std::size_t>(n * k), rng);
    Bf16PackedB nk = pack_bf16_nk(MatView{DType::F32, b.data(), n, k, k});
    Bf16PackedB nk2;
    pack_bf16_nk_f32(b.data(), n, k, k, nk2);
    std::vector<float> bt(static_cast<std::size_t>(n * k));  // [k, n]
    for (int j = 0; j < n; ++j)
      for (int kk = 0; kk < k; ++kk) bt[static_cast<std::size_t>(kk * n + j)] = b[static_cast<std::size_t>(j * k + kk)];
    const Bf16PackedB kn = pack_bf16_kn(bt.data(), k, n, n);
    EXPECT_EQ(nk.tiles, nk2.tiles);
    EXPECT_EQ(nk.tiles, kn.tiles);
  }
}

TEST(VideoBf16, GemmPortableAndAmxMatchReference) {
  std::mt19937 rng(2);
  Context ctx(2);
  const std::vector<int> Ms{1, 3, 17, 33, 100}, Ns{1, 15, 16, 17, 40}, Ks{1, 31, 32, 33, 100, 1023};
  for (int M : Ms)
    for (int N : Ns)
      for (int K : Ks) {
        const auto a = random_vec(static_cast<std::size_t>(M * K), rng);
        const auto b = random_vec(static_cast<std::size_t>(N * K), rng);
        const Bf16PackedB pb = pack_bf16_nk(MatView{DType::F32, b.data(), N, K, K});
        for (bool acc : {false, true}) {
          const auto c0 = random_vec(static_cast<std::size_t>(M * N), rng);
          std::vector<float> want = c0, portable = c0, dispatch = c0;
          reference::gemm_bf16(M, a.data(), K, pb, want.data(), N, acc);
          detail::gemm_bf16_portable_rows(M, a.data(), K, pb, portable.data(), N, acc);
          expect_gemm_close(portable, want, a, b, M, N, K, "portable");
          gemm_bf16(ctx, M, a.data(), K, pb, dispatch.data(), N, acc);  // AMX where available
          expect_gemm_close(dispatch, want, a, b, M, N, K, bf16_amx_available() ? "amx" : "portable(dispatch)");
        }
      }
  std::printf("[ info ] AMX-BF16 kernel %s on this machine\n", bf16_amx_available() ? "used" : "not available");
}

TEST(VideoBf16, GemmLargeStridedRows) {
  // Rows spread over the pool and a leading dimension wider than K.
  std::mt19937 rng(3);
  Context ctx(2);
  const int M = 300, N = 70, K = 96, lda = 101, ldc = 75;
  const auto a = random_vec(static_cast<std::size_t>(M * lda), rng);
  const auto b = random_vec(static_cast<std::size_t>(N * K), rng);
  const Bf16PackedB pb = pack_bf16_nk(MatView{DType::F32, b.data(), N, K, K});
  std::vector<float> got(static_cast<std::size_t>(M * ldc), 7.0f), want(static_cast<std::size_t>(M * ldc), 7.0f);
  gemm_bf16(ctx, M, a.data(), lda, pb, got.data(), ldc, false);
  reference::gemm_bf16(M, a.data(), lda, pb, want.data(), ldc, false);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < ldc; ++j) {
      if (j >= N) {
        ASSERT_EQ(got[static_cast<std::size_t>(i * ldc + j)], 7.0f) << "wrote outside C";
        continue;
      }
      ASSERT_NEAR(got[static_cast<std::size_t>(i * ldc + j)], want[static_cast<std::size_t>(i * ldc + j)], 1e-3);
    }
}

TEST(VideoBf16, AttentionMatchesReference) {
  std::mt19937 rng(4);
  Context ctx(2);
  for (int tokens : {1, 5, 37, 130})
    for (int hd : {16, 20, 64}) {
      const int heads = 2, ld = heads * hd * 3;
      const auto qkv = random_vec(static_cast<std::size_t>(tokens * ld), rng, 0.7f);
      const float* q = qkv.data();
      const float* k = q + heads * hd;
      const float* v = q + 2 * heads * hd;
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      std::vector<float> got(static_cast<std::size_t>(tokens * heads * hd)), want(got.size());
      attention_bf16(ctx, tokens, heads, hd, scale, q, ld, k, ld, v, ld, got.data(), heads * hd);
      reference::attention_bf16(tokens, heads, hd, scale, q, ld, k, ld, v, ld, want.data(), heads * hd);
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-2) << tokens << " " << hd << " " << i;
    }
}

}  // namespace
}  // namespace tribev2::features::video

#include "kernels_simd.hpp"
#include "tribev2/core/attention.hpp"
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

TEST(VideoFastMath, AttentionF32MatchesCore) {
  std::mt19937 rng(6);
  Context ctx(2);
  for (int tokens : {1, 7, 130, 700})
    for (int hd : {8, 20, 64}) {
      const int heads = 3, ld = heads * hd * 3;
      const auto qkv = random_vec(static_cast<std::size_t>(tokens * ld), rng, 0.8f);
      const float* q = qkv.data();
      const float* k = q + heads * hd;
      const float* v = q + 2 * heads * hd;
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      std::vector<float> got(static_cast<std::size_t>(tokens * heads * hd)), want(got.size());
      attention_f32(ctx, tokens, heads, hd, scale, q, ld, k, ld, v, ld, got.data(), heads * hd);
      AttentionParams p;
      p.tq = p.tk = tokens;
      p.heads = p.kv_heads = heads;
      p.head_dim = hd;
      p.scale = scale;
      tribev2::reference::attention(p, q, ld, k, ld, v, ld, want.data(), heads * hd);
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << tokens << " " << hd << " " << i;
    }
}

}  // namespace
}  // namespace tribev2::features::video

namespace tribev2::features::video {
namespace {

TEST(VideoBf16, VectorConversionMatchesScalar) {
  std::vector<float> v{0.0f, -0.0f, 1.0f, -1.5f, 1e-40f, -1e-45f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN,
                       1.00390625f, 1.01171875f, 1.0078125f, 65504.0f};
  std::mt19937 rng(9);
  for (int i = 0; i < 1000; ++i) v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng())));
  std::vector<std::uint16_t> out(v.size());
  f32_to_bf16_n(v.data(), out.data(), static_cast<std::int64_t>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], f32_to_bf16(v[i])) << i;
}

}  // namespace
}  // namespace tribev2::features::video
