// Products with WeightMatrix operands (F32/F16/BF16 through core::gemm, Q8_0 by widening
// tiles of rows to float32 first) and the bf16 rounding used by the bf16 compute mode.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"
#include "tribev2/features/text/llama_model.hpp"

namespace tribev2::text {

constexpr std::int64_t kQ8Block = 32;
constexpr std::size_t kQ8BlockBytes = 34;  // float16 scale + 32 int8

// y[M, W.rows] = x[M, K] * W^T (W is [N, K]); y has leading dimension ldy.
void linear_w(const Context& ctx, const float* x, std::int64_t M, std::int64_t K, const WeightMatrix& W, float* y,
              std::int64_t ldy);

// Dequantises n Q8_0 values (n a multiple of 32) from `blocks`.
void dequantize_q8_0(const void* blocks, std::int64_t n, float* out);
// Quantises n values (multiple of 32) as llama.cpp's quantize_row_q8_0_ref does.
void quantize_q8_0(const float* x, std::int64_t n, void* blocks);

// Rounds every value to the nearest bfloat16 (ties to even), as a bf16 tensor store does.
void round_bf16(float* x, std::int64_t n);
inline float bf16_round(float v);

}  // namespace tribev2::text

#include "tribev2/core/dtype.hpp"

namespace tribev2::text {
inline float bf16_round(float v) { return bf16_to_f32(f32_to_bf16(v)); }
}  // namespace tribev2::text
