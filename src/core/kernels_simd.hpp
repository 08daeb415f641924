// Internal: vectorised twins of some kernels (kernels_avx512.cpp, compiled for AVX-512), called
// by kernels.cpp / attention.cpp only when cpu_features reports AVX-512.
#pragma once

#include <cstdint>

namespace tribev2::detail {

// x <- gelu(x), n values.
void gelu_avx512(float* x, std::int64_t n);
// out <- a * sigmoid(g), n values (silu: a = g = out = x).
void mul_sigmoid_avx512(const float* a, const float* g, float* out, std::int64_t n);
// Each row: x <- softmax(x * scale) over cols (-inf entries give 0; a row of -inf gives 0).
void softmax_rows_avx512(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
// The same softmax for CPUs without AVX-512 (softmax_portable.cpp: vectorised by the compiler).
void softmax_rows_portable(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
// dst[c, r] = src[r, c] for r < rows, c < cols.
void transpose_avx512(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds, float* dst,
                      std::int64_t ldd);
// out[r, :] = x[r, :] * (scale / max(||x[r, :]||, 1e-12)), the norm accumulated in double.
void scale_norm_avx512(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                       double scale);

}  // namespace tribev2::detail
