#include "tribev2/core/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gemm_kernels.hpp"
#include "scratch.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/kernels.hpp"

namespace tribev2 {

namespace {

void check_params(const AttentionParams& p) {
  TRIBEV2_CHECK(p.heads > 0 && p.kv_heads > 0 && p.heads % p.kv_heads == 0,
                "attention: heads (", p.heads, ") must be a multiple of kv_heads (", p.kv_heads, ")");
  TRIBEV2_CHECK(p.head_dim > 0 && p.tq >= 0 && p.tk >= 0, "attention: bad sizes");
}

}  // namespace

void attention(const Context& ctx, const AttentionParams& p, const float* q, std::int64_t ldq,
               const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
               std::int64_t ldo, const ScoreBias* bias) {
  check_params(p);
  if (p.tq == 0) return;
  const int dh = p.head_dim;
  const int group = p.heads / p.kv_heads;
  // Scores and weights are always float32 (whatever the context's precision): they are a small
  // share of the work and the softmax is where low precision would hurt.
  const detail::F32Kernels& kr = detail::f32_kernels_for(cpu::level());
  const GemmEpilogue none;
  // Query block: bounded scratch ([block x tk] floats per task) whatever the sequence length.
  const std::int64_t block = std::clamp<std::int64_t>((1 << 20) / std::max<std::int64_t>(p.tk, 1), 16, 256);
  const std::int64_t n_blocks = (p.tq + block - 1) / block;
  const std::int64_t tasks = n_blocks * p.heads;
  const bool fold_scale = p.scale > 0.0f;  // softmax(s * scale) in one pass (masks stay -inf)
  ctx.pool().parallel_for(tasks, [&](std::int64_t t0, std::int64_t t1) {
    detail::Scratch& sc = detail::thread_scratch();
    for (std::int64_t t = t0; t < t1; ++t) {
      const int h = static_cast<int>(t / n_blocks);
      const std::int64_t q0 = (t % n_blocks) * block;
      const std::int64_t nq = std::min(block, p.tq - q0);
      const int g = h / group;
      const float* qh = q + q0 * ldq + static_cast<std::int64_t>(h) * dh;
      const float* kh = k + static_cast<std::int64_t>(g) * dh;
      const float* vh = v + static_cast<std::int64_t>(g) * dh;
      float* oh = out + q0 * ldo + static_cast<std::int64_t>(h) * dh;
      // Causal: keys beyond the last query's horizon are never needed.
      std::int64_t tk = p.tk;
      if (p.causal) tk = std::clamp<std::int64_t>(q0 + nq + p.causal_offset, 0, p.tk);
      if (tk == 0) {
        for (std::int64_t i = 0; i < nq; ++i) std::fill_n(oh + i * ldo, dh, 0.0f);
        continue;
      }
      float* scores = sc.c.get(static_cast<std::size_t>(nq * tk));
      detail::gemm_f32_range(kr, detail::BSource{DType::F32, kh, ldk, true}, 0, nq, 0, tk, dh, qh, ldq, 0.0f, scores,
                             tk, none);
      if (bias) bias->add(h, q0, nq, qh, ldq, scores, tk);
      for (std::int64_t i = 0; i < nq; ++i) {
        float* row = scores + i * tk;
        if (!fold_scale)
          for (std::int64_t j = 0; j < tk; ++j) row[j] *= p.scale;
        if (p.causal) {
          const std::int64_t last = q0 + i + p.causal_offset;  // inclusive
          for (std::int64_t j = std::max<std::int64_t>(last + 1, 0); j < tk; ++j)
            row[j] = -std::numeric_limits<float>::infinity();
        }
      }
      kernels::softmax_rows_scaled(scores, nq, tk, tk, fold_scale ? p.scale : 1.0f);
      detail::gemm_f32_range(kr, detail::BSource{DType::F32, vh, ldv, false}, 0, nq, 0, dh, tk, scores, tk, 0.0f, oh,
                             ldo, none);
    }
  });
}

namespace reference {

void attention(const AttentionParams& p, const float* q, std::int64_t ldq, const float* k,
               std::int64_t ldk, const float* v, std::int64_t ldv, float* out, std::int64_t ldo,
               const ScoreBias* bias) {
  check_params(p);
  const int dh = p.head_dim;
  const int group = p.heads / p.kv_heads;
  std::vector<float> s(static_cast<std::size_t>(std::max<std::int64_t>(p.tk, 1)));
  std::vector<double> acc(static_cast<std::size_t>(dh));
  for (int h = 0; h < p.heads; ++h) {
    const int g = h / group;
    for (std::int64_t i = 0; i < p.tq; ++i) {
      const float* qi = q + i * ldq + static_cast<std::int64_t>(h) * dh;
      for (std::int64_t j = 0; j < p.tk; ++j) {
        const float* kj = k + j * ldk + static_cast<std::int64_t>(g) * dh;
        double d = 0.0;
        for (int c = 0; c < dh; ++c) d += static_cast<double>(qi[c]) * kj[c];
        s[static_cast<std::size_t>(j)] = static_cast<float>(d);
      }
      if (bias) bias->add(h, i, 1, qi, ldq, s.data(), p.tk);
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < p.tk; ++j) {
        const bool masked = p.causal && j > i + p.causal_offset;
        if (!masked) mx = std::max(mx, static_cast<double>(s[static_cast<std::size_t>(j)]) * p.scale);
      }
      double sum = 0.0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::int64_t j = 0; j < p.tk; ++j) {
        if (p.causal && j > i + p.causal_offset) continue;
        const double w = std::exp(static_cast<double>(s[static_cast<std::size_t>(j)]) * p.scale - mx);
        sum += w;
        const float* vj = v + j * ldv + static_cast<std::int64_t>(g) * dh;
        for (int c = 0; c < dh; ++c) acc[static_cast<std::size_t>(c)] += w * vj[c];
      }
      float* oi = out + i * ldo + static_cast<std::int64_t>(h) * dh;
      for (int c = 0; c < dh; ++c) oi[c] = sum > 0 ? static_cast<float>(acc[static_cast<std::size_t>(c)] / sum) : 0.0f;
    }
  }
}

}  // namespace reference

}  // namespace tribev2
