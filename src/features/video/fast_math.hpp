// Private to tribev2_video: vectorisable exp, softmax and exact-form GELU for the encoder's
// hot loops (about 1.5 G exponentials and 50 M GELUs per layer at ViT-g size, where the
// scalar libm calls cost as much as the matrix products). Written as plain loops the compiler
// vectorises, cloned for AVX-512 / AVX2 / generic CPUs with runtime dispatch.
//
// Accuracy (tests/video/test_video_kernels.cpp): exp within 1e-7 relative of the libm result;
// erf within 2e-9 absolute (a degree-10 fit, computed in double); so softmax rows and GELU
// agree with core's scalar kernels (their reference twins) to float rounding.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"

namespace tribev2::features::video {

// Rows of x [rows, cols] (row stride ld) replaced by softmax(row), in place.
void softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld);
// Scales x by `scale` and applies softmax to each row (the attention score step).
void scaled_softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
// x <- 0.5 x (1 + erf(x / sqrt 2)) over n values, spread over the pool.
void gelu_erf_fast(const Context& ctx, float* x, std::int64_t n);
// erf in double for n values (exposed for the tests).
void erf_fast(const double* x, double* out, std::int64_t n);

}  // namespace tribev2::features::video
