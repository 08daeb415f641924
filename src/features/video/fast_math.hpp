// Private to tribev2_video: vectorisable exp and softmax for the encoder's attention (about
// 1.5 G exponentials per layer at ViT-g size, where scalar libm calls cost as much as the
// matrix products). Written as plain loops the compiler vectorises, cloned for AVX-512 / AVX2 /
// generic CPUs with runtime dispatch. (GELU is core's kernels::gelu_erf, the one every network
// uses; this softmax sums in 16 lanes, more accurate than core's today: issue 16 moves it.)
//
// Accuracy (tests/video/test_video_kernels.cpp): exp within 1e-7 relative of the libm result,
// so softmax rows agree with core's scalar kernels (their reference twins) to float rounding.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"

namespace tribev2::features::video {

// Rows of x [rows, cols] (row stride ld) replaced by softmax(row), in place.
void softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld);
// Scales x by `scale` and applies softmax to each row (the attention score step).
void scaled_softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);

}  // namespace tribev2::features::video
