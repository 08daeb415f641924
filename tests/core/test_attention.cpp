// Blocked attention against the plain reference twin (double accumulation), including GQA,
// causal masks with offsets, a score-bias callback and sizes that cross block boundaries.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "attention_flash.hpp"
#include "kernels_simd.hpp"
#include "scratch.hpp"
#include "support/test_support.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/attention.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/kernels.hpp"

using namespace tribev2;

namespace {
void run_case(std::int64_t tq, std::int64_t tk, int heads, int kv_heads, int dh, bool causal, std::int64_t offset, bool with_bias) {
  std::mt19937 g(static_cast<unsigned>(tq * 31 + tk));
  std::normal_distribution<float> d;
  const std::int64_t ldq = heads * dh + 3, ldk = kv_heads * dh + 1;  // padded strides
  std::vector<float> q(static_cast<std::size_t>(tq * ldq)), k(static_cast<std::size_t>(tk * ldk)), v(k.size());
  for (auto& x : q) x = d(g);
  for (auto& x : k) x = d(g);
  for (auto& x : v) x = d(g);
  AttentionParams p;
  p.tq = tq;
  p.tk = tk;
  p.heads = heads;
  p.kv_heads = kv_heads;
  p.head_dim = dh;
  p.scale = 1.0f / std::sqrt(static_cast<float>(dh));
  p.causal = causal;
  p.causal_offset = offset;
  ScoreBias bias;
  bias.add = [&](int h, std::int64_t q0, std::int64_t nq, const float*, std::int64_t, float* s, std::int64_t nk) {
    for (std::int64_t i = 0; i < nq; ++i)
      for (std::int64_t j = 0; j < nk; ++j) s[i * nk + j] += 0.1f * static_cast<float>(h + 1) * static_cast<float>((q0 + i) - j);
  };
  const std::int64_t ldo = heads * dh;
  std::vector<float> o1(static_cast<std::size_t>(tq * ldo)), o2(o1.size());
  Context ctx(2);
  attention(ctx, p, q.data(), ldq, k.data(), ldk, v.data(), ldk, o1.data(), ldo, with_bias ? &bias : nullptr);
  reference::attention(p, q.data(), ldq, k.data(), ldk, v.data(), ldk, o2.data(), ldo, with_bias ? &bias : nullptr);
  const double mx = test::max_abs_diff(o1, o2);
  EXPECT_LE(mx, 2e-5) << tq << "x" << tk << " h" << heads << "/" << kv_heads << " dh" << dh << " causal " << causal;
}

// q [tokens, ldq], k and v [tokens, ldk], filled in that order from d.
struct Qkv {
  std::vector<float> q, k, v;
};
Qkv random_qkv(std::mt19937& g, std::normal_distribution<float>& d, std::int64_t tokens, std::int64_t ldq,
               std::int64_t ldk) {
  Qkv r{std::vector<float>(static_cast<std::size_t>(tokens * ldq)), std::vector<float>(static_cast<std::size_t>(tokens * ldk)),
        std::vector<float>(static_cast<std::size_t>(tokens * ldk))};
  for (auto* a : {&r.q, &r.k, &r.v})
    for (auto& x : *a) x = d(g);
  return r;
}

// Self-attention over `tokens` tokens with PyTorch's bf16 products.
AttentionParams bf16_self(std::int64_t tokens, int heads, int kv_heads, int hd, float scale) {
  AttentionParams p;
  p.tq = p.tk = tokens;
  p.heads = heads;
  p.kv_heads = kv_heads;
  p.head_dim = hd;
  p.scale = scale;
  p.bf16_products = true;
  return p;
}
}  // namespace

TEST(Attention, MatchesReference) {
  run_case(1, 1, 1, 1, 8, false, 0, false);
  run_case(3, 17, 2, 2, 16, false, 0, false);
  run_case(200, 200, 8, 8, 20, false, 0, false);
  run_case(1023, 70, 3, 1, 9, false, 0, true);  // many query blocks, GQA 3:1
}

TEST(Attention, CausalWithOffset) {
  run_case(17, 17, 4, 2, 16, true, 0, false);
  run_case(5, 12, 2, 1, 8, true, 7, false);  // queries are the last 5 of 12 positions
  run_case(300, 300, 2, 2, 8, true, 0, true);
}

TEST(Attention, HeadSizeOfTheBrainModelAndLongSequences) {
  run_case(200, 200, 8, 8, 144, false, 0, false);
  run_case(1023, 1023, 1, 1, 17, false, 0, false);  // more than one query block
  run_case(1, 3, 2, 2, 144, false, 0, false);
}

TEST(Attention, StaysFloat32InBf16Context) {
  // Scores and weights are float32 whatever the precision: same result as the reference.
  std::mt19937 g(5);
  std::normal_distribution<float> d;
  const std::int64_t T = 17, dh = 9;
  std::vector<float> q(static_cast<std::size_t>(T * dh)), k(q.size()), v(q.size());
  for (auto* a : {&q, &k, &v})
    for (auto& x : *a) x = d(g);
  AttentionParams p;
  p.tq = p.tk = T;
  p.head_dim = static_cast<int>(dh);
  p.scale = 0.3f;
  std::vector<float> o1(q.size()), o2(q.size());
  Context ctx(2, Precision::BF16);
  attention(ctx, p, q.data(), dh, k.data(), dh, v.data(), dh, o1.data(), dh);
  reference::attention(p, q.data(), dh, k.data(), dh, v.data(), dh, o2.data(), dh);
  for (std::size_t i = 0; i < o1.size(); ++i) EXPECT_NEAR(o1[i], o2[i], 2e-5);
}

TEST(Attention, Bf16ProductsMatchTheirReference) {
  // PyTorch's bf16 attention (q.k and p.v in bfloat16, float32 accumulation), here the fused
  // order, against the reference's per-element evaluation in double with the normalised weights
  // rounded (PyTorch's math path; the fused order rounds them before normalising, as PyTorch's
  // flash path): a weight may round to the neighbouring bf16 value (2^-8 relative), so the
  // bound is 1e-2 absolute on outputs of magnitude ~1 (the V-JEPA2 encoder's bf16 tolerance).
  std::mt19937 g(4);
  std::normal_distribution<float> d(0.0f, 0.7f);
  Context ctx(2);
  for (int tokens : {1, 5, 37, 130, 300})
    for (int hd : {16, 20, 64})
      for (auto [heads, kv_heads] : {std::pair{2, 2}, std::pair{4, 2}}) {
        const std::int64_t ldq = heads * hd + 3, ldk = kv_heads * hd + 1, ldo = heads * hd;
        const auto [q, k, v] = random_qkv(g, d, tokens, ldq, ldk);
        AttentionParams p = bf16_self(tokens, heads, kv_heads, hd, 1.0f / std::sqrt(static_cast<float>(hd)));
        std::vector<float> got(static_cast<std::size_t>(tokens * ldo)), want(got.size());
        attention(ctx, p, q.data(), ldq, k.data(), ldk, v.data(), ldk, got.data(), ldo);
        reference::attention(p, q.data(), ldq, k.data(), ldk, v.data(), ldk, want.data(), ldo);
        EXPECT_LE(test::max_abs_diff(got, want), 1e-2) << tokens << " tokens, head_dim " << hd << ", " << heads << "/"
                                                       << kv_heads << " heads";
        // And it is not the float32 result (the flag reaches the kernels).
        if (tokens >= 37) {
          p.bf16_products = false;
          std::vector<float> f32(got.size());
          attention(ctx, p, q.data(), ldq, k.data(), ldk, v.data(), ldk, f32.data(), ldo);
          EXPECT_GT(test::max_abs_diff(got, f32), 1e-5);
        }
      }
}

TEST(Attention, Bf16ProductsWithABiasAreTheirStepsBitForBit) {
  // With a score bias the bf16 attention runs unfused: S = Q K^T (bf16 products on packed K),
  // the bias, softmax, O = P V (packed V), through the public API. Each element's sums run in
  // the same order whatever the query blocks, so the bits agree (a bias adding zero here).
  std::mt19937 g(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  const int heads = 2, kv_heads = 1, hd = 64;
  ScoreBias zero;
  zero.add = [](int, std::int64_t, std::int64_t, const float*, std::int64_t, float*, std::int64_t) {};
  for (const std::int64_t T : {40, 300}) {  // one query block, several (with a tail)
    const std::int64_t ldq = heads * hd, ldk = kv_heads * hd;
    const auto [q, k, v] = random_qkv(g, d, T, ldq, ldk);
    const AttentionParams p = bf16_self(T, heads, kv_heads, hd, 0.125f);
    Context ctx(2);
    std::vector<float> got(static_cast<std::size_t>(T * ldq)), want(got.size()), s(static_cast<std::size_t>(T * T));
    attention(ctx, p, q.data(), ldq, k.data(), ldk, v.data(), ldk, got.data(), ldq, &zero);
    const PackedBf16 kp = PackedBf16::pack(ctx, MatView{DType::F32, k.data(), T, hd, ldk}, true);
    const PackedBf16 vp = PackedBf16::pack(ctx, MatView{DType::F32, v.data(), T, hd, ldk}, false);
    for (int h = 0; h < heads; ++h) {
      gemm_packed(ctx, T, q.data() + h * hd, ldq, kp, s.data(), T, GemmEpilogue{});
      kernels::softmax_rows_scaled(s.data(), T, T, T, p.scale);
      gemm_packed(ctx, T, s.data(), T, vp, want.data() + h * hd, ldq, GemmEpilogue{});
    }
    EXPECT_EQ(test::max_abs_diff(got, want), 0.0) << T << " tokens";
  }
}

TEST(Attention, Bf16FusedKernelsMatchTheirPortableTwins) {
  // The fused (online softmax) bf16 attention of one query block: the AVX512-BF16 tile and the
  // AVX-512 softmax against the portable tile (VDPBF16PS's order of sums, float32) and softmax
  // (the same exp2 steps). Same bf16 operands; what may differ is the last bit of a weight
  // before its rounding to bf16 (fused vs separate multiply-adds), so now and then a weight lands
  // on the neighbouring bf16 value (2^-8 of that weight times |v|); 2e-5 on outputs of scale ~1
  // (measured: 2.4e-7 over these cases; a wrong panel or pair offset gives ~1). Sizes cross every block edge: query rows
  // 1..28 (two 14-row tiles), keys around the 32-key panel and the 256-key block, head sizes
  // with a padded last k pair panel.
  if (cpu::features().hardware < cpu::Level::Avx512Bf16) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  std::mt19937 g(11);
  std::normal_distribution<float> d(0.0f, 1.0f);
  Context ctx(1);
  double worst = 0.0;
  for (int dh : {16, 20, 64, 80, 128})
    for (std::int64_t tk : {1, 31, 33, 256, 257, 700})
      for (std::int64_t nq : {1, 13, 15, 28}) {
        std::vector<float> q(static_cast<std::size_t>(nq * dh)), k(static_cast<std::size_t>(tk * dh)), v(k.size());
        for (auto* a : {&q, &k, &v})
          for (auto& x : *a) x = d(g);
        const PackedBf16 kp = PackedBf16::pack(ctx, MatView{DType::F32, k.data(), tk, dh, dh}, true);
        const PackedBf16 vp = PackedBf16::pack(ctx, MatView{DType::F32, v.data(), tk, dh, dh}, false);
        const detail::FlashHead h{kp.panels(), vp.panels(), tk, dh, 1.0f / std::sqrt(static_cast<float>(dh))};
        std::vector<float> fast(q.size()), twin(q.size());
        detail::flash_bf16_rows(true, h, q.data(), dh, nq, fast.data(), dh);
        detail::flash_bf16_rows(false, h, q.data(), dh, nq, twin.data(), dh);
        const double diff = test::max_abs_diff(fast, twin);
        worst = std::max(worst, diff);
        EXPECT_LE(diff, 2e-5) << nq << " queries, " << tk << " keys, head_dim " << dh;
      }
  std::printf("fused bf16 attention, AVX512-BF16 vs portable twin: max |diff| %.3g\n", worst);
}

TEST(Attention, Bf16FusedMatchesUnfusedWithinBf16Rounding) {
  // The fused order rounds the unnormalised weights exp(s - running max) to bf16, the unfused
  // one the normalised weights (as PyTorch's CPU flash attention and its math path do): both
  // are bf16 roundings of the same weight up to a factor, so their results differ by about the
  // bf16 rounding of the weighted sums. V-JEPA2's shape (64 per head), 600 keys (3 blocks).
  std::mt19937 g(12);
  std::normal_distribution<float> d(0.0f, 1.0f);
  const int heads = 3, hd = 64;
  const std::int64_t T = 600, ld = heads * hd;
  const auto [q, k, v] = random_qkv(g, d, T, ld, ld);
  const AttentionParams p = bf16_self(T, heads, heads, hd, 0.125f);
  ScoreBias zero;
  zero.add = [](int, std::int64_t, std::int64_t, const float*, std::int64_t, float*, std::int64_t) {};
  Context ctx(2);
  std::vector<float> fused(q.size()), unfused(q.size()), f32(q.size());
  attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, fused.data(), ld);
  attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, unfused.data(), ld, &zero);
  AttentionParams pf = p;
  pf.bf16_products = false;
  attention(ctx, pf, q.data(), ld, k.data(), ld, v.data(), ld, f32.data(), ld);
  const double between = test::max_abs_diff(fused, unfused);
  const double fused_err = test::max_abs_diff(fused, f32), unfused_err = test::max_abs_diff(unfused, f32);
  std::printf("bf16 attention vs float32: fused %.3g, unfused %.3g; fused vs unfused %.3g (max |diff|)\n", fused_err,
              unfused_err, between);
  EXPECT_GT(between, 0.0);  // not the same path
  EXPECT_LE(fused_err, 2.0 * unfused_err);  // no less accurate than the unfused order, within a factor 2
  EXPECT_LE(between, 1e-2);
}

TEST(Attention, Float32FusedMatchesUnfused) {
  // Non-causal float32 attention without a bias runs fused (online softmax over 256-key blocks,
  // exp2 by kExp2Poly); with a bias (here adding zero) it runs unfused (whole rows, exp_ps).
  // Same float32 products in another order and two exponentials 2e-7 apart: 2e-6 on outputs of
  // scale ~1. Every CPU level here (the AVX-512 softmax and its portable twin, and the three
  // float32 tile kernels), 1..3 key blocks, query blocks with tails, GQA.
  std::mt19937 g(13);
  std::normal_distribution<float> d(0.0f, 1.0f);
  ScoreBias zero;
  zero.add = [](int, std::int64_t, std::int64_t, const float*, std::int64_t, float*, std::int64_t) {};
  Context ctx(2);
  double worst = 0.0;
  for (cpu::Level level : {cpu::Level::Generic, cpu::Level::Avx2, cpu::Level::Avx512}) {
    if (level > cpu::features().hardware) continue;
    const detail::F32Kernels& kr = detail::f32_kernels_for(level);
    for (const auto& [tq, tk, dh] : {std::array<std::int64_t, 3>{1, 1, 8}, {29, 257, 64}, {57, 700, 20}, {30, 513, 144}}) {
      const int heads = 4, kv_heads = 2;
      const std::int64_t ldq = heads * dh, ldk = kv_heads * dh;
      std::vector<float> q(static_cast<std::size_t>(tq * ldq)), k(static_cast<std::size_t>(tk * ldk)), v(k.size());
      for (auto* a : {&q, &k, &v})
        for (auto& x : *a) x = d(g);
      AttentionParams p;
      p.tq = tq;
      p.tk = tk;
      p.heads = heads;
      p.kv_heads = kv_heads;
      p.head_dim = static_cast<int>(dh);
      p.scale = 1.0f / std::sqrt(static_cast<float>(dh));
      std::vector<float> unfused(q.size()), fused(q.size());
      attention(ctx, p, q.data(), ldq, k.data(), ldk, v.data(), ldk, unfused.data(), ldq, &zero);
      // The fused order at this level, head by head, through the internal entry points.
      const std::int64_t stride = detail::flash_f32_block_floats(kr, static_cast<int>(dh));
      const std::int64_t per_head = (tk + detail::kFlashKeys - 1) / detail::kFlashKeys * stride;
      detail::AlignedBuffer kb, vb;
      float* kbuf = kb.get(static_cast<std::size_t>(per_head));
      float* vbuf = vb.get(static_cast<std::size_t>(per_head));
      for (int h = 0; h < heads; ++h) {
        const int gh = h / (heads / kv_heads);
        detail::pack_flash_f32(kr, k.data() + gh * dh, ldk, v.data() + gh * dh, ldk, tk, static_cast<int>(dh), kbuf, vbuf);
        const detail::FlashF32Head fh{kbuf, vbuf, tk, static_cast<int>(dh), p.scale};
        for (std::int64_t q0 = 0; q0 < tq; q0 += detail::kFlashRows)
          detail::flash_f32_rows(kr, level >= cpu::Level::Avx512, fh, q.data() + q0 * ldq + h * dh, ldq,
                                 std::min(detail::kFlashRows, tq - q0), fused.data() + q0 * ldq + h * dh, ldq);
      }
      const double diff = test::max_abs_diff(fused, unfused);
      worst = std::max(worst, diff);
      EXPECT_LE(diff, 2e-6) << cpu::level_name(level) << " " << tq << "x" << tk << " dh " << dh;
    }
  }
  std::printf("float32 attention, fused vs unfused: max |diff| %.3g\n", worst);
}

TEST(Attention, OnlineSoftmaxExponentialIsAccurate) {
  // exp2_poly against exp2 in double on the softmax's range (2.1e-7 relative by the fit, 3e-7
  // allowed for float32 evaluation), and the clamp below 2^-126.
  double worst = 0.0;
  for (int i = 0; i <= 200000; ++i) {
    const float t = -126.0f + 126.0f * static_cast<float>(i) / 200000.0f;
    const double want = std::exp2(static_cast<double>(t));
    worst = std::max(worst, std::abs(detail::exp2_poly(t) / want - 1.0));
  }
  EXPECT_LE(worst, 3e-7);
  EXPECT_EQ(detail::exp2_poly(-1000.0f), detail::exp2_poly(-126.0f));
  EXPECT_EQ(detail::online_alpha(-std::numeric_limits<float>::infinity(), 3.0f), 0.0f);
  EXPECT_EQ(detail::online_alpha(2.5f, 2.5f), 1.0f);
  EXPECT_NEAR(detail::online_alpha(1.0f, 3.0f), std::exp(-2.0), 3e-7 * std::exp(-2.0));
}

TEST(Attention, Bf16ProductsWithAScoreBias) {
  // w2v-BERT's bf16 mode: the relative_key hook adds to the float32 scores between the two bf16
  // products, as in the float32 path; same bound and rationale as Bf16ProductsMatchTheirReference.
  std::mt19937 g(6);
  std::normal_distribution<float> d(0.0f, 0.7f);
  ScoreBias bias;
  bias.add = [&](int h, std::int64_t q0, std::int64_t nq, const float*, std::int64_t, float* s, std::int64_t nk) {
    for (std::int64_t i = 0; i < nq; ++i)
      for (std::int64_t j = 0; j < nk; ++j) s[i * nk + j] += 0.05f * static_cast<float>(h + 1) * static_cast<float>((q0 + i) - j);
  };
  Context ctx(2);
  for (int tokens : {5, 300}) {
    const int heads = 2, hd = 16;
    const std::int64_t ld = heads * hd;
    const auto [q, k, v] = random_qkv(g, d, tokens, ld, ld);
    const AttentionParams p = bf16_self(tokens, heads, heads, hd, 0.25f);
    std::vector<float> got(q.size()), want(q.size()), plain(q.size());
    attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, got.data(), ld, &bias);
    reference::attention(p, q.data(), ld, k.data(), ld, v.data(), ld, want.data(), ld, &bias);
    EXPECT_LE(test::max_abs_diff(got, want), 1e-2) << tokens << " tokens";
    // The bias reaches the scores (without it the result is far off).
    attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, plain.data(), ld);
    if (tokens > 5) {
      EXPECT_GT(test::max_abs_diff(plain, want), 0.1);
    }
  }
}

TEST(Attention, KeyBlockBiasRunsFusedAndMatchesTheWholeRowBias) {
  // A ScoreBias with `block` lets non-causal attention run fused: the term added per block of
  // keys (the fused order's 256) must equal the whole-row one. Float32: the fused and unfused
  // orders agree to 2e-6 (Float32FusedMatchesUnfused); bf16: within the bf16 bound against the
  // reference (Bf16ProductsMatchTheirReference). 600 keys: three key blocks, the last partial.
  std::mt19937 g(14);
  std::normal_distribution<float> d(0.0f, 0.7f);
  auto term = [](int h, std::int64_t qi, std::int64_t kj) {
    return 0.03f * static_cast<float>(h + 1) * static_cast<float>(std::clamp<std::int64_t>(kj - qi, -40, 40));
  };
  ScoreBias rows, blocks;
  rows.add = [&](int h, std::int64_t q0, std::int64_t nq, const float*, std::int64_t, float* s, std::int64_t nk) {
    for (std::int64_t i = 0; i < nq; ++i)
      for (std::int64_t j = 0; j < nk; ++j) s[i * nk + j] += term(h, q0 + i, j);
  };
  blocks.add = rows.add;
  int calls = 0;
  blocks.block = [&](int h, std::int64_t q0, std::int64_t nq, const float*, std::int64_t) {
    return ScoreBias::KeyBlockAdder([&, h, q0, nq](std::int64_t k0, std::int64_t nk, float* s, std::int64_t lds) {
      ++calls;  // (one thread here)
      for (std::int64_t i = 0; i < nq; ++i)
        for (std::int64_t j = 0; j < nk; ++j) s[i * lds + j] += term(h, q0 + i, k0 + j);
    });
  };
  Context ctx(1);
  const int heads = 2, hd = 32;
  const std::int64_t T = 600, ld = heads * hd;
  const auto [q, k, v] = random_qkv(g, d, T, ld, ld);
  for (bool b16 : {false, true}) {
    AttentionParams p = bf16_self(T, heads, heads, hd, 0.2f);
    p.bf16_products = b16;
    std::vector<float> fused(q.size()), unfused(q.size()), want(q.size());
    calls = 0;
    attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, fused.data(), ld, &blocks);
    EXPECT_EQ(calls, heads * ((T + 27) / 28) * 3);  // every query block sees every key block
    attention(ctx, p, q.data(), ld, k.data(), ld, v.data(), ld, unfused.data(), ld, &rows);
    reference::attention(p, q.data(), ld, k.data(), ld, v.data(), ld, want.data(), ld, &rows);
    if (b16) {
      EXPECT_LE(test::max_abs_diff(fused, want), 1e-2);
      EXPECT_LE(test::max_abs_diff(fused, unfused), 1e-2);
    } else {
      EXPECT_LE(test::max_abs_diff(fused, unfused), 2e-6);
      EXPECT_LE(test::max_abs_diff(fused, want), 2e-5);
    }
  }
}

TEST(Attention, Bf16ProductsRefuseWhatTheyDoNotImplement) {
  std::vector<float> x(64, 0.5f), o(64);
  AttentionParams p;
  p.tq = p.tk = 4;
  p.head_dim = 8;
  p.bf16_products = true;
  p.causal = true;
  Context ctx(1);
  EXPECT_THROW_MSG(attention(ctx, p, x.data(), 8, x.data(), 8, x.data(), 8, o.data(), 8),
                   "bf16 products are implemented for non-causal attention only");
}
