#include "tribev2/core/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention_flash.hpp"
#include "gemm_kernels.hpp"
#include "scratch.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/dtype.hpp"
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

// The fused order's tasks: every (head, block of kFlashRows queries) pair over the pool, each
// handed its query rows, output rows and the bias's adder for that block (null without bias).
template <class Fn>
void for_each_fused_block(const Context& ctx, const AttentionParams& p, const float* q, std::int64_t ldq, float* out,
                          std::int64_t ldo, const ScoreBias* bias, const Fn& fn) {
  const std::int64_t n_blocks = (p.tq + detail::kFlashRows - 1) / detail::kFlashRows;
  ctx.pool().parallel_for(n_blocks * p.heads, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
      const int h = static_cast<int>(t / n_blocks);
      const std::int64_t q0 = (t % n_blocks) * detail::kFlashRows;
      const std::int64_t nq = std::min(detail::kFlashRows, p.tq - q0);
      const std::int64_t col = static_cast<std::int64_t>(h) * p.head_dim;
      const float* qh = q + q0 * ldq + col;
      const ScoreBias::KeyBlockAdder adder = bias ? bias->block(h, q0, nq, qh, ldq) : ScoreBias::KeyBlockAdder{};
      fn(h / (p.heads / p.kv_heads), qh, nq, out + q0 * ldo + col, bias ? &adder : nullptr);
    }
  });
}

// bf16 products (AttentionParams::bf16_products): K and V of each kv head packed once for the
// bf16 kernels, then per block of queries S = Q K^T, softmax(S * scale), O = P V.
void attention_bf16_products(const Context& ctx, const AttentionParams& p, const float* q, std::int64_t ldq,
                             const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
                             std::int64_t ldo, const ScoreBias* bias) {
  const int dh = p.head_dim;
  const int group = p.heads / p.kv_heads;
  if (p.tk == 0) {
    for (std::int64_t i = 0; i < p.tq; ++i) std::fill_n(out + i * ldo, static_cast<std::int64_t>(p.heads) * dh, 0.0f);
    return;
  }
  // Keys as the B of S = Q K^T ([n = tk, k = head_dim]); values as the B of O = P V ([k = tk, n = head_dim]).
  std::vector<PackedBf16> kp(static_cast<std::size_t>(p.kv_heads)), vp(static_cast<std::size_t>(p.kv_heads));
  ctx.pool().parallel_for(p.kv_heads, [&](std::int64_t g0, std::int64_t g1) {
    for (std::int64_t g = g0; g < g1; ++g) {
      kp[static_cast<std::size_t>(g)] = PackedBf16::pack(ctx, MatView{DType::F32, k + g * dh, p.tk, dh, ldk}, true);
      vp[static_cast<std::size_t>(g)] = PackedBf16::pack(ctx, MatView{DType::F32, v + g * dh, p.tk, dh, ldv}, false);
    }
  });
  // Without a score bias or with one that adds per key block: the fused one-pass order
  // (attention_flash.hpp), query blocks of two register tiles.
  if (!bias || bias->block) {
    const bool fast = cpu::level() >= cpu::Level::Avx512Bf16;
    for_each_fused_block(ctx, p, q, ldq, out, ldo, bias,
                         [&](int g, const float* qh, std::int64_t nq, float* oh, const ScoreBias::KeyBlockAdder* adder) {
                           const auto gi = static_cast<std::size_t>(g);
                           const detail::FlashHead fh{kp[gi].panels(), vp[gi].panels(), p.tk, dh, p.scale};
                           detail::flash_bf16_rows(fast, fh, qh, ldq, nq, oh, ldo, adder);
                         });
    return;
  }
  // With a whole-row score bias (no `block`): per block of queries S = Q K^T, the bias,
  // softmax, O = P V, the normalised weights rounded. Query blocks of whole 14-row register tiles, ~1 MB of scores (28 queries at 8192
  // keys: the scores stay in L2). Measured on V-JEPA2 (8192 keys, 2 threads): 28 rows 480
  // GFLOP/s, 56 rows 454, 32 rows (14 + 14 + a 4-row tile) 453.
  const std::int64_t block =
      std::clamp<std::int64_t>((std::int64_t{1} << 18) / p.tk / 14 * 14, 28, 252);
  const std::int64_t n_blocks = (p.tq + block - 1) / block;
  const GemmEpilogue none;
  ctx.pool().parallel_for(n_blocks * p.heads, [&](std::int64_t t0, std::int64_t t1) {
    // Not the thread scratch: the bf16 GEMM converts its A operand there.
    std::vector<float> scores;
    for (std::int64_t t = t0; t < t1; ++t) {
      const int h = static_cast<int>(t / n_blocks);
      const std::size_t g = static_cast<std::size_t>(h / group);
      const std::int64_t q0 = (t % n_blocks) * block;
      const std::int64_t nq = std::min(block, p.tq - q0);
      scores.resize(static_cast<std::size_t>(nq * p.tk));
      const float* qh = q + q0 * ldq + static_cast<std::int64_t>(h) * dh;
      gemm_packed(ctx, nq, qh, ldq, kp[g], scores.data(), p.tk, none);
      bias->add(h, q0, nq, qh, ldq, scores.data(), p.tk);
      if (!(p.scale > 0.0f))
        for (auto& x : scores) x *= p.scale;
      kernels::softmax_rows_scaled(scores.data(), nq, p.tk, p.tk, p.scale > 0.0f ? p.scale : 1.0f);
      gemm_packed(ctx, nq, scores.data(), p.tk, vp[g], out + q0 * ldo + static_cast<std::int64_t>(h) * dh, ldo, none);
    }
  });
}

// Non-causal float32 attention without a score bias or with a per-key-block one: the fused
// one-pass order (attention_flash.hpp). K and V of each kv head packed once per key block.
void attention_f32_fused(const Context& ctx, const detail::F32Kernels& kr, const AttentionParams& p, const float* q,
                         std::int64_t ldq, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv,
                         float* out, std::int64_t ldo, const ScoreBias* bias) {
  const int dh = p.head_dim;
  const std::int64_t stride = detail::flash_f32_block_floats(kr, dh);
  const std::int64_t per_head = (p.tk + detail::kFlashKeys - 1) / detail::kFlashKeys * stride;
  detail::AlignedBuffer kb, vb;  // the packers and kernels read whole aligned vectors
  float* kbuf = kb.get(static_cast<std::size_t>(per_head * p.kv_heads));
  float* vbuf = vb.get(static_cast<std::size_t>(per_head * p.kv_heads));
  ctx.pool().parallel_for(p.kv_heads, [&](std::int64_t g0, std::int64_t g1) {
    for (std::int64_t g = g0; g < g1; ++g)
      detail::pack_flash_f32(kr, k + g * dh, ldk, v + g * dh, ldv, p.tk, dh, kbuf + g * per_head, vbuf + g * per_head);
  });
  const bool fast = cpu::level() >= cpu::Level::Avx512;
  for_each_fused_block(ctx, p, q, ldq, out, ldo, bias,
                       [&](int g, const float* qh, std::int64_t nq, float* oh, const ScoreBias::KeyBlockAdder* adder) {
                         const detail::FlashF32Head fh{kbuf + g * per_head, vbuf + g * per_head, p.tk, dh, p.scale};
                         detail::flash_f32_rows(kr, fast, fh, qh, ldq, nq, oh, ldo, adder);
                       });
}

float to_bf16(float x) { return bf16_to_f32(f32_to_bf16(x)); }

}  // namespace

void attention(const Context& ctx, const AttentionParams& p, const float* q, std::int64_t ldq,
               const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
               std::int64_t ldo, const ScoreBias* bias) {
  check_params(p);
  if (p.tq == 0) return;
  if (p.bf16_products) {
    TRIBEV2_CHECK(!p.causal, "attention: bf16 products are implemented for non-causal attention only");
    attention_bf16_products(ctx, p, q, ldq, k, ldk, v, ldv, out, ldo, bias);
    return;
  }
  const int dh = p.head_dim;
  const int group = p.heads / p.kv_heads;
  // Scores and weights are always float32 (whatever the context's precision): they are a small
  // share of the work and the softmax is where low precision would hurt.
  const detail::F32Kernels& kr = detail::f32_kernels_for(cpu::level());
  if (!p.causal && (!bias || bias->block) && p.tk > 0) {
    attention_f32_fused(ctx, kr, p, q, ldq, k, ldk, v, ldv, out, ldo, bias);
    return;
  }
  const GemmEpilogue none;
  // Query block: bounded scratch ([block x tk] floats per task) whatever the sequence length.
  const std::int64_t block = std::clamp<std::int64_t>((1 << 20) / std::max<std::int64_t>(p.tk, 1), 16, 256);
  const std::int64_t n_blocks = (p.tq + block - 1) / block;
  const std::int64_t tasks = n_blocks * p.heads;
  const bool fold_scale = p.scale > 0.0f;  // softmax(s * scale) in one pass (masks stay -inf)
  // Non-causal with several query blocks (V-JEPA2's 8192 tokens, w2v-BERT's minutes of frames):
  // K and V of each kv head packed once for the f32 kernels instead of once per query block
  // (at head_dim 64 the per-block packing cost about as much as the products). The same numbers
  // as per-call packing, bit for bit (PackedF32). Causal blocks use a prefix of the keys.
  std::vector<PackedF32> kpack, vpack;
  if (!p.causal && n_blocks > 1) {
    kpack.resize(static_cast<std::size_t>(p.kv_heads));
    vpack.resize(static_cast<std::size_t>(p.kv_heads));
    for (int g = 0; g < p.kv_heads; ++g) {
      kpack[static_cast<std::size_t>(g)] = PackedF32::pack(ctx, MatView{DType::F32, k + g * dh, p.tk, dh, ldk}, true);
      vpack[static_cast<std::size_t>(g)] = PackedF32::pack(ctx, MatView{DType::F32, v + g * dh, p.tk, dh, ldv}, false);
    }
  }
  auto source = [](const std::vector<PackedF32>& packs, int g, const float* data, std::int64_t ld, bool trans) {
    detail::BSource src{DType::F32, data, ld, trans};
    if (!packs.empty()) {
      src.packed = packs[static_cast<std::size_t>(g)].data();
      src.packed_ld = packs[static_cast<std::size_t>(g)].ld();
    }
    return src;
  };
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
      float* scores = sc.scores.get(static_cast<std::size_t>(nq * tk));
      detail::gemm_f32_range(kr, source(kpack, g, kh, ldk, true), 0, nq, 0, tk, dh, qh, ldq, 0.0f, scores, tk, none);
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
      detail::gemm_f32_range(kr, source(vpack, g, vh, ldv, false), 0, nq, 0, dh, tk, scores, tk, 0.0f, oh, ldo, none);
    }
  });
}

namespace reference {

void attention(const AttentionParams& p, const float* q, std::int64_t ldq, const float* k,
               std::int64_t ldk, const float* v, std::int64_t ldv, float* out, std::int64_t ldo,
               const ScoreBias* bias) {
  check_params(p);
  TRIBEV2_CHECK(!p.bf16_products || !p.causal, "attention: bf16 products are implemented for non-causal attention only");
  const int dh = p.head_dim;
  const int group = p.heads / p.kv_heads;
  // bf16 products: the operands of each product rounded to bfloat16 (q, k; the normalised
  // weights and v), sums in double.
  const bool b16 = p.bf16_products;
  auto op = [b16](float x) { return b16 ? to_bf16(x) : x; };
  std::vector<float> s(static_cast<std::size_t>(std::max<std::int64_t>(p.tk, 1)));
  std::vector<double> acc(static_cast<std::size_t>(dh));
  for (int h = 0; h < p.heads; ++h) {
    const int g = h / group;
    for (std::int64_t i = 0; i < p.tq; ++i) {
      const float* qi = q + i * ldq + static_cast<std::int64_t>(h) * dh;
      for (std::int64_t j = 0; j < p.tk; ++j) {
        const float* kj = k + j * ldk + static_cast<std::int64_t>(g) * dh;
        double d = 0.0;
        for (int c = 0; c < dh; ++c) d += static_cast<double>(op(qi[c])) * op(kj[c]);
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
      if (b16) {
        // The weights are normalised before they are rounded (and multiplied).
        for (std::int64_t j = 0; j < p.tk; ++j)
          sum += std::exp(static_cast<double>(s[static_cast<std::size_t>(j)]) * p.scale - mx);
        for (std::int64_t j = 0; j < p.tk; ++j) {
          const double w =
              to_bf16(static_cast<float>(std::exp(static_cast<double>(s[static_cast<std::size_t>(j)]) * p.scale - mx) / sum));
          const float* vj = v + j * ldv + static_cast<std::int64_t>(g) * dh;
          for (int c = 0; c < dh; ++c) acc[static_cast<std::size_t>(c)] += w * to_bf16(vj[c]);
        }
        float* oi = out + i * ldo + static_cast<std::int64_t>(h) * dh;
        for (int c = 0; c < dh; ++c) oi[c] = static_cast<float>(acc[static_cast<std::size_t>(c)]);
        continue;
      }
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
