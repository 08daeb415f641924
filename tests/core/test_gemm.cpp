// gemm() (BLAS tiles over the pool, half-precision operands widened blockwise) against the
// naive reference twin, on awkward sizes.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/gemm.hpp"

using namespace tribev2;

namespace {
using test::rand_vec;

void check(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, DType bt, float beta) {
  const auto A = rand_vec(static_cast<std::size_t>(M * K), 1);
  const auto Bf = rand_vec(static_cast<std::size_t>(N * K), 2);
  Tensor Bt = Tensor::from<float>(trans_b ? Shape{N, K} : Shape{K, N}, Bf).to(bt);
  std::vector<float> C1 = rand_vec(static_cast<std::size_t>(M * N), 3), C2 = C1;
  const MatView B = mat_view(Bt);
  gemm(ctx, trans_b, M, N, K, A.data(), K, B, beta, C1.data(), N);
  reference::gemm(trans_b, M, N, K, A.data(), K, B, beta, C2.data(), N);
  const double mx = test::max_abs_diff(C1, C2);
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

TEST(Gemm, RejectsTooSmallOperand) {
  Context ctx(1);
  Tensor W = Tensor::zeros(DType::F32, {2, 3});
  float x[8] = {}, y[8] = {};
  EXPECT_THROW(gemm(ctx, true, 1, 4, 3, x, 3, mat_view(W), 0.0f, y, 4), Error);
}

// ---- optimised kernels against their twins, at every instruction-set level this CPU has ----

namespace {

std::vector<cpu::Level> levels_here() {
  std::vector<cpu::Level> out;
  for (cpu::Level l : {cpu::Level::Generic, cpu::Level::Avx2, cpu::Level::Avx512, cpu::Level::Avx512Bf16, cpu::Level::Amx})
    if (l <= cpu::features().hardware) out.push_back(l);
  return out;
}

struct EpCase {
  bool bias, gelu, residual, rscale, alias;
};

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::abs(x)));
  return m;
}

// gemm_ex (F32 or BF16 context) against reference::gemm_ex / reference::gemm_bf16.
void check_ex(cpu::Level level, Precision prec, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, DType bt,
              EpCase e, int threads = 2) {
  const auto A = rand_vec(static_cast<std::size_t>(M * (K + 3)), 11);  // lda = K + 3
  const auto Bf = rand_vec(static_cast<std::size_t>(N * K), 12);
  Tensor Bt = Tensor::from<float>(trans_b ? Shape{N, K} : Shape{K, N}, Bf).to(bt);
  const auto bias = rand_vec(static_cast<std::size_t>(N), 13);
  const auto rs = rand_vec(static_cast<std::size_t>(N), 14);
  const auto R = rand_vec(static_cast<std::size_t>(M * (N + 1)), 15);  // ldr = N + 1
  std::vector<float> C1(static_cast<std::size_t>(M * (N + 1))), C2(C1.size());
  GemmEpilogue ep;
  ep.bias = e.bias ? bias.data() : nullptr;
  ep.gelu = e.gelu;
  ep.residual_scale = e.rscale ? rs.data() : nullptr;
  if (e.residual) {
    if (e.alias) {  // x = f(x) + x * s: the residual is C itself
      C1 = R;
      C2 = R;
      ep.residual = C1.data();
    } else {
      ep.residual = R.data();
    }
    ep.ldr = N + 1;
  }
  Context ctx(threads, prec);
  gemm_ex(ctx, trans_b, M, N, K, A.data(), K + 3, mat_view(Bt), C1.data(), N + 1, ep, level);
  GemmEpilogue ep2 = ep;
  if (e.residual && e.alias) ep2.residual = C2.data();
  if (prec == Precision::BF16)
    reference::gemm_bf16(trans_b, M, N, K, A.data(), K + 3, mat_view(Bt), C2.data(), N + 1, ep2);
  else
    reference::gemm_ex(trans_b, M, N, K, A.data(), K + 3, mat_view(Bt), C2.data(), N + 1, ep2);
  test::MaxDiff diff;
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j)
      diff.add(C1[static_cast<std::size_t>(i * (N + 1) + j)], C2[static_cast<std::size_t>(i * (N + 1) + j)]);
  const double mx = diff.abs();
  // Different summation orders of K float32 terms (sqrt(K)-sized sums); GELU's erf is the
  // vectorised A&S 7.1.26 (|error| <= 1.5e-7) against std::erf.
  EXPECT_LE(mx, 2e-6 * std::sqrt(static_cast<double>(K)) * 10 + (e.gelu ? 1e-6 * max_abs(C2) : 0.0))
      << cpu::level_name(level) << (prec == Precision::BF16 ? " bf16 " : " f32 ") << M << "x" << N << "x" << K
      << " trans=" << trans_b << " dtype=" << dtype_name(bt) << " bias=" << e.bias << " gelu=" << e.gelu
      << " residual=" << e.residual << " alias=" << e.alias;
}

}  // namespace

TEST(GemmKernels, EveryLevelMatchesTwinOnOddSizes) {
  const std::vector<std::array<std::int64_t, 3>> sizes = {{1, 1, 1},   {3, 5, 7},    {17, 33, 13},
                                                          {1023, 70, 9}, {17, 130, 300}, {200, 65, 520}};
  for (cpu::Level level : levels_here())
    for (bool tb : {true, false})
      for (const auto& [M, N, K] : sizes)
        for (DType dt : {DType::F32, DType::F16, DType::BF16}) check_ex(level, Precision::F32, tb, M, N, K, dt, {});
}

TEST(GemmKernels, FusedEpilogues) {
  const std::vector<EpCase> cases = {{true, false, false, false, false}, {true, true, false, false, false},
                                     {false, false, true, false, false}, {true, false, true, true, true},
                                     {false, false, true, true, true}};
  for (cpu::Level level : levels_here())
    for (const EpCase& e : cases) {
      check_ex(level, Precision::F32, true, 17, 100, 300, DType::F32, e);
      check_ex(level, Precision::F32, true, 1, 3, 5, DType::F32, e, 1);
      check_ex(level, Precision::F32, false, 23, 47, 19, DType::BF16, e);
    }
}

TEST(GemmKernels, Bf16ProductsMatchTwinAtEveryLevel) {
  const std::vector<std::array<std::int64_t, 3>> sizes = {{1, 1, 1}, {3, 17, 5}, {17, 33, 47}, {1023, 40, 70}, {40, 100, 300}};
  for (cpu::Level level : levels_here())
    for (bool tb : {true, false})
      for (const auto& [M, N, K] : sizes)
        for (DType dt : {DType::F32, DType::BF16}) check_ex(level, Precision::BF16, tb, M, N, K, dt, {});
  for (cpu::Level level : levels_here()) check_ex(level, Precision::BF16, true, 33, 70, 100, DType::F32, {true, true, true, true, true});
  // The AVX512-BF16 path's cache blocks (336 rows, 8 panels of 32 columns, K chunks of 256),
  // each with a tail: the accumulation over K chunks and the epilogue after the last one.
  for (cpu::Level level : levels_here()) {
    check_ex(level, Precision::BF16, true, 700, 300, 600, DType::F32, {});
    check_ex(level, Precision::BF16, false, 345, 260, 513, DType::BF16, {});
    check_ex(level, Precision::BF16, true, 400, 290, 530, DType::F32, {true, true, true, true, true});
    // A bias alone starts the first K chunk and full panels end in C directly (no epilogue pass).
    check_ex(level, Precision::BF16, true, 345, 290, 600, DType::F32, {true, false, false, false, false});
    check_ex(level, Precision::BF16, false, 30, 100, 64, DType::BF16, {true, false, false, false, false});
  }
}

TEST(GemmKernels, PackedBf16MatchesTwin) {
  for (cpu::Level level : levels_here())
    for (bool tb : {true, false})
      for (auto [M, N, K] : std::vector<std::array<std::int64_t, 3>>{{1, 1, 1}, {3, 33, 17}, {17, 65, 100}, {1023, 31, 63}}) {
        const auto A = rand_vec(static_cast<std::size_t>(M * K), 21);
        const auto Bf = rand_vec(static_cast<std::size_t>(N * K), 22);
        const auto bias = rand_vec(static_cast<std::size_t>(N), 23);
        Tensor Bt = Tensor::from<float>(tb ? Shape{N, K} : Shape{K, N}, Bf);
        Context ctx(2);
        const PackedBf16 P = PackedBf16::pack(ctx, mat_view(Bt), tb);
        EXPECT_EQ(P.n(), N);
        EXPECT_EQ(P.k(), K);
        GemmEpilogue ep;
        ep.bias = bias.data();
        std::vector<float> C1(static_cast<std::size_t>(M * N)), C2(C1.size());
        gemm_packed(ctx, M, A.data(), K, P, C1.data(), N, ep, level);
        reference::gemm_bf16(tb, M, N, K, A.data(), K, mat_view(Bt), C2.data(), N, ep);
        const double mx = test::max_abs_diff(C1, C2);
        EXPECT_LE(mx, 2e-5 * std::sqrt(static_cast<double>(K))) << cpu::level_name(level) << " " << M << "x" << N << "x" << K;
      }
}

TEST(GemmKernels, PackedF32IsBitIdenticalToPerCallPacking) {
  // PackedF32 stores exactly what gemm() packs per call: the same numbers bit for bit, at every
  // kernel level, with several K blocks (K > 256) and column blocks (N > 512), 1 and 2 threads,
  // any stored dtype, and a fused epilogue whose residual is C itself.
  for (cpu::Level level : levels_here())
    for (bool tb : {true, false})
      for (auto [M, N, K] : std::vector<std::array<std::int64_t, 3>>{{1, 1, 1}, {3, 33, 17}, {17, 1100, 600}, {1023, 31, 63}, {200, 70, 520}})
        for (DType dt : {DType::F32, DType::BF16})
          for (int threads : {1, 2}) {
            const auto A = rand_vec(static_cast<std::size_t>(M * K), 41);
            const auto Bf = rand_vec(static_cast<std::size_t>(N * K), 42);
            const auto bias = rand_vec(static_cast<std::size_t>(N), 43);
            const auto R = rand_vec(static_cast<std::size_t>(M * N), 44);
            Tensor Bt = Tensor::from<float>(tb ? Shape{N, K} : Shape{K, N}, Bf).to(dt);
            Context ctx(threads);
            const PackedF32 P = PackedF32::pack(ctx, mat_view(Bt), tb, level);
            ASSERT_EQ(P.n(), N);
            ASSERT_EQ(P.k(), K);
            std::vector<float> C1 = R, C2 = R;
            GemmEpilogue ep1, ep2;
            ep1.bias = ep2.bias = bias.data();
            ep1.gelu = ep2.gelu = true;
            ep1.residual = C1.data();
            ep2.residual = C2.data();
            ep1.ldr = ep2.ldr = N;
            gemm_packed(ctx, M, A.data(), K, P, C1.data(), N, ep1);
            gemm_ex(ctx, tb, M, N, K, A.data(), K, mat_view(Bt), C2.data(), N, ep2, level);
            ASSERT_EQ(C1, C2) << cpu::level_name(level) << " " << M << "x" << N << "x" << K << " trans=" << tb
                              << " dtype=" << dtype_name(dt) << " threads=" << threads;
          }
  Context bf(1, Precision::BF16);
  Tensor W = Tensor::from<float>({2, 3}, rand_vec(6, 45));
  const PackedF32 P = PackedF32::pack(bf, mat_view(W), true);
  std::vector<float> x(3), y(2);
  EXPECT_THROW_MSG(gemm_packed(bf, 1, x.data(), 3, P, y.data(), 2, {}), "a float32 packing is for float32 compute");
}

