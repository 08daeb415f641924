// A weight matrix viewed where it lies (a memory-mapped file, a model's buffer) in its stored
// type: F32, F16, BF16 or llama.cpp's Q8_0 blocks. What core::Linear multiplies by, and what
// the GGUF/safetensors readers hand the models.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tribev2/core/gemm.hpp"

namespace tribev2 {

enum class WeightType : std::uint8_t { F32, F16, BF16, Q8_0 };
const char* weight_type_name(WeightType t);

constexpr std::int64_t kQ8Block = 32;
constexpr std::size_t kQ8BlockBytes = 34;  // float16 scale + 32 int8

// A matrix [rows, cols], row-major (nn.Linear layout [out_features, in_features]); Q8_0 rows
// are cols/32 blocks of {float16 scale, 32 x int8}.
struct WeightMatrix {
  WeightType type = WeightType::F32;
  const void* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::size_t row_bytes() const;
  std::size_t bytes() const { return row_bytes() * static_cast<std::size_t>(rows); }
  // Row r widened to float32 (exact for F32/F16/BF16; d * q for Q8_0).
  void row_to_f32(std::int64_t r, float* out) const;
  bool is_float() const { return type != WeightType::Q8_0; }
  // The same matrix as gemm()'s operand; F32/F16/BF16 only.
  MatView view() const;
  static WeightMatrix of(const MatView& m);  // a dense view (ld == cols) of F32/F16/BF16
};

// Dequantises n Q8_0 values (n a multiple of 32) from `blocks`.
void dequantize_q8_0(const void* blocks, std::int64_t n, float* out);
// Quantises n values (multiple of 32) as llama.cpp's quantize_row_q8_0_ref does.
void quantize_q8_0(const float* x, std::int64_t n, void* blocks);

}  // namespace tribev2
