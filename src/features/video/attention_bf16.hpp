// Private to tribev2_video: multi-head self-attention with bf16 GEMMs (for BF16 precision).
// Per head: S = bf16(q) bf16(k)^T (float32 sums), softmax(S * scale) in float32, then
// O = bf16(P) bf16(v). Queries go in blocks, so memory stays one [block x tokens] score
// matrix per task; keys and values are packed once per head.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"

namespace tribev2::features::video {

// q, k, v: [tokens, heads * head_dim] with row strides ldq/ldk/ldv; out: [tokens, ldo].
// float32 version: core's blocked attention with the vectorised softmax (its reference twin
// is tribev2::attention / tribev2::reference::attention).
// `block` queries per task (0: automatic).
void attention_f32(const Context& ctx, std::int64_t tokens, int heads, int head_dim, float scale, const float* q,
                   std::int64_t ldq, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
                   std::int64_t ldo, std::int64_t block = 0);
void attention_bf16(const Context& ctx, std::int64_t tokens, int heads, int head_dim, float scale, const float* q,
                    std::int64_t ldq, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out,
                    std::int64_t ldo, std::int64_t block = 0);

namespace reference {
// Plain loops in double with the same roundings (q, k, v and P to bf16).
void attention_bf16(std::int64_t tokens, int heads, int head_dim, float scale, const float* q, std::int64_t ldq,
                    const float* k, std::int64_t ldk, const float* v, std::int64_t ldv, float* out, std::int64_t ldo);
}  // namespace reference

}  // namespace tribev2::features::video
