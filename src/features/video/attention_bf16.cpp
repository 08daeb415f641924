#include "attention_bf16.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "bf16_gemm.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/kernels.hpp"

namespace tribev2::features::video {

void attention_f32(const Context& ctx, std::int64_t tokens, int heads, int head_dim, float scale, const float* q,
                   std::int64_t ldq, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
                   std::int64_t ldo, std::int64_t block) {
  TRIBEV2_CHECK(heads > 0 && head_dim > 0 && tokens >= 0, "attention_f32: bad sizes");
  if (tokens == 0) return;
  // A [block x tokens] score matrix per task: 128 queries (4 MB at 8192 tokens) measured 1.5x
  // faster than 32 (sgemm is inefficient on few rows), no gain beyond.
  if (block <= 0) block = std::clamp<std::int64_t>((std::int64_t{1} << 20) / tokens, 16, 128);
  const std::int64_t n_blocks = (tokens + block - 1) / block;
  ctx.pool().parallel_for(n_blocks * heads, [&](std::int64_t t0, std::int64_t t1) {
    std::vector<float> scores;
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t h = t / n_blocks;
      const std::int64_t q0 = (t % n_blocks) * block;
      const std::int64_t nq = std::min(block, tokens - q0);
      scores.resize(static_cast<std::size_t>(nq * tokens));
      gemm(ctx, true, nq, tokens, head_dim, q + q0 * ldq + h * head_dim, ldq,
           MatView{DType::F32, k + h * head_dim, tokens, head_dim, ldk}, 0.0f, scores.data(), tokens);
      kernels::softmax_rows_scaled(scores.data(), nq, tokens, tokens, scale);
      gemm(ctx, false, nq, head_dim, tokens, scores.data(), tokens,
           MatView{DType::F32, v + h * head_dim, tokens, head_dim, ldv}, 0.0f, out + q0 * ldo + h * head_dim, ldo);
    }
  });
}

void attention_bf16(const Context& ctx, std::int64_t tokens, int heads, int head_dim, float scale, const float* q,
                    std::int64_t ldq, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
                    std::int64_t ldo, std::int64_t block) {
  TRIBEV2_CHECK(heads > 0 && head_dim > 0 && tokens >= 0, "attention_bf16: bad sizes");
  if (tokens == 0) return;
  // Keys as the B of S = Q K^T ([n = tokens, k = head_dim]); values as the B of O = P V
  // ([k = tokens, n = head_dim]).
  std::vector<Bf16PackedB> kp(static_cast<std::size_t>(heads)), vp(static_cast<std::size_t>(heads));
  ctx.pool().parallel_for(heads, [&](std::int64_t h0, std::int64_t h1) {
    for (std::int64_t h = h0; h < h1; ++h) {
      pack_bf16_nk_f32(k + h * head_dim, tokens, head_dim, ldk, kp[static_cast<std::size_t>(h)]);
      pack_bf16_kn_into(v + h * head_dim, tokens, head_dim, ldv, vp[static_cast<std::size_t>(h)]);
    }
  });
  // 32 queries (one AMX row block; 1 MB of scores) measured fastest: the scores stay in L2.
  if (block <= 0) block = std::clamp<std::int64_t>((std::int64_t{1} << 18) / tokens / 32 * 32, 32, 256);
  const std::int64_t n_blocks = (tokens + block - 1) / block;
  ctx.pool().parallel_for(n_blocks * heads, [&](std::int64_t t0, std::int64_t t1) {
    std::vector<float> scores;
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t h = t / n_blocks;
      const std::int64_t q0 = (t % n_blocks) * block;
      const std::int64_t nq = std::min(block, tokens - q0);
      scores.resize(static_cast<std::size_t>(nq * tokens));
      gemm_bf16(ctx, nq, q + q0 * ldq + h * head_dim, ldq, kp[static_cast<std::size_t>(h)], scores.data(), tokens,
                false);
      kernels::softmax_rows_scaled(scores.data(), nq, tokens, tokens, scale);
      gemm_bf16(ctx, nq, scores.data(), tokens, vp[static_cast<std::size_t>(h)], out + q0 * ldo + h * head_dim, ldo,
                false);
    }
  });
}

namespace reference {

void attention_bf16(std::int64_t tokens, int heads, int head_dim, float scale, const float* q, std::int64_t ldq,
                    const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out, std::int64_t ldo) {
  std::vector<double> s(static_cast<std::size_t>(tokens));
  for (int h = 0; h < heads; ++h)
    for (std::int64_t i = 0; i < tokens; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < tokens; ++j) {
        double d = 0.0;
        for (int c = 0; c < head_dim; ++c)
          d += static_cast<double>(round_bf16(q[i * ldq + h * head_dim + c])) *
               static_cast<double>(round_bf16(k[j * ldk + h * head_dim + c]));
        s[static_cast<std::size_t>(j)] = static_cast<double>(static_cast<float>(d) * scale);
        mx = std::max(mx, s[static_cast<std::size_t>(j)]);
      }
      double sum = 0.0;
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (int c = 0; c < head_dim; ++c) {
        double acc = 0.0;
        for (std::int64_t j = 0; j < tokens; ++j)
          acc += static_cast<double>(round_bf16(static_cast<float>(s[static_cast<std::size_t>(j)] / sum))) *
                 static_cast<double>(round_bf16(v[j * ldv + h * head_dim + c]));
        out[i * ldo + h * head_dim + c] = static_cast<float>(acc);
      }
    }
}

}  // namespace reference

}  // namespace tribev2::features::video
