// The bf16 rounding of transformers' bf16 run (every stored activation rounded to nearest
// bfloat16). Products go through core::Linear (tribev2/core/linear.hpp); WeightMatrix and the
// Q8_0 layout live in core (tribev2/core/weight_matrix.hpp).
#pragma once

#include <cstdint>

#include "tribev2/core/dtype.hpp"

namespace tribev2::text {

// Rounds every value to the nearest bfloat16 (ties to even), as a bf16 tensor store does.
void round_bf16(float* x, std::int64_t n);
inline float bf16_round(float v) { return bf16_to_f32(f32_to_bf16(v)); }

}  // namespace tribev2::text
