// Multi-head scaled dot-product attention, computed in blocks of queries so that memory
// stays bounded (no [Tq x Tk] matrix per head is kept). Non-causal attention (without a score
// bias, or with one that adds per block of keys) runs fused, FlashAttention's one pass over the keys: per block of 28 queries and 256
// keys, the scores, an online softmax (running row maximum and sum) and the weighted sum of
// values, the scores never leaving L1. Causal attention and attention with a whole-row score
// bias run per block of queries against all keys ([block x Tk] scores per thread, then the
// softmax).
#pragma once

#include <cstdint>
#include <functional>

#include "tribev2/core/context.hpp"

namespace tribev2 {

struct AttentionParams {
  std::int64_t tq = 0;        // query positions
  std::int64_t tk = 0;        // key/value positions
  int heads = 1;              // query heads
  int kv_heads = 1;           // key/value heads (grouped-query attention when < heads)
  int head_dim = 0;
  float scale = 1.0f;         // multiplies q.k
  bool causal = false;        // query i sees keys j <= i + causal_offset
  std::int64_t causal_offset = 0;
  // PyTorch's bfloat16 attention: q.k and p.v as bf16 products (q, k, the weights and v rounded
  // to nearest even) with float32 accumulation, in core's bf16 kernels with K and V packed once
  // per head; scores, softmax and sums stay float32. Fused (no bias), the weights rounded are
  // exp(s - running max), normalised at the end, as PyTorch's CPU flash attention does; unfused
  // (a ScoreBias without `block`) the normalised weights, as its math path does
  // (docs/performance.md: the two differ by about one bf16 rounding). Otherwise every product is float32, whatever
  // the context's precision. Non-causal (the V-JEPA2 and w2v-BERT encoders' bf16 mode);
  // causal attention is refused.
  bool bf16_products = false;
};

// Adds a position-dependent term to the raw scores, before they are multiplied by `scale`
// (e.g. the relative-key term q_i . E[j - i] of w2v-BERT).
//   add: for head `head`, queries [q0, q0 + nq) (their rows start at `q`, stride ldq), with
//     scores [nq, n_keys] (row stride n_keys; n_keys may be below tk for causal attention)
//     holding q.k of keys [0, n_keys).
//   block (optional; lets non-causal attention run fused): called once per head and block of
//     queries (same arguments as add), returns the adder of one block of keys
//     [k0, k0 + n_keys): scores [nq, n_keys] with row stride lds.
struct ScoreBias {
  using KeyBlockAdder = std::function<void(std::int64_t k0, std::int64_t n_keys, float* scores, std::int64_t lds)>;
  std::function<void(int head, std::int64_t q0, std::int64_t nq, const float* q, std::int64_t ldq,
                     float* scores, std::int64_t n_keys)>
      add;
  std::function<KeyBlockAdder(int head, std::int64_t q0, std::int64_t nq, const float* q, std::int64_t ldq)> block;
};

// q: [tq, ldq], head h at columns [h*head_dim, (h+1)*head_dim); k, v: [tk, ldk/ldv] with kv
// head g = h / (heads / kv_heads). out: [tq, ldo], head-major like q.
void attention(const Context& ctx, const AttentionParams& p, const float* q, std::int64_t ldq,
               const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
               std::int64_t ldo, const ScoreBias* bias = nullptr);

namespace reference {
// Plain per-element evaluation in double accumulators: the twin attention() is tested against.
void attention(const AttentionParams& p, const float* q, std::int64_t ldq, const float* k,
               std::int64_t ldk, const float* v, std::int64_t ldv, float* out, std::int64_t ldo,
               const ScoreBias* bias = nullptr);
}  // namespace reference

}  // namespace tribev2
