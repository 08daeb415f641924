// The portable softmax (CPUs without AVX-512): a branch-free exp and 16-lane reductions written
// as plain loops the compiler vectorises, cloned for AVX-512 / AVX2 / generic CPUs with runtime
// dispatch (moved from the video extractor, where it made attention's 1.5 G exponentials per
// ViT-g layer cost less than the matrix products). exp within 1e-7 relative of libm.
#include "kernels_simd.hpp"

#include "tribev2/core/dtype.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace tribev2::detail {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TRIBEV2_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TRIBEV2_CLONES
#endif

namespace {

// exp(v) for float: v = k ln2 + r, |r| <= ln2/2, k by the 1.5 * 2^23 rounding trick (no
// branches, no libm), e^r by its Taylor series to degree 7 (truncation < 1e-8 relative), 2^k
// through the exponent bits. Arguments above 88 are clamped; below -87 the result is 0 (the
// normal range ends near exp(-87.3); softmax weights that small do not matter, and -inf gives 0).
inline float exp_f32(float x) {
  float v = x < -87.0f ? -87.0f : x;
  v = v > 88.0f ? 88.0f : v;
  const float k = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = v - k * 0.693359375f;  // ln2 split in a short high part and a correction
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  const float e = p * scale;
  return x < -87.0f ? 0.0f : e;
}

// Reductions use 16 independent lanes so that the loops vectorise without -ffast-math.
constexpr int kLanes = 16;

TRIBEV2_CLONES void softmax_row(float* x, std::int64_t n, float scale) {
  float lane_max[kLanes];
  for (float& m : lane_max) m = -std::numeric_limits<float>::infinity();
  const std::int64_t body = n / kLanes * kLanes;
  for (std::int64_t j = 0; j < body; j += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float v = x[j + l] * scale;
      x[j + l] = v;
      lane_max[l] = v > lane_max[l] ? v : lane_max[l];
    }
  float mx = -std::numeric_limits<float>::infinity();
  for (std::int64_t j = body; j < n; ++j) {
    x[j] *= scale;
    mx = x[j] > mx ? x[j] : mx;
  }
  for (float m : lane_max) mx = m > mx ? m : mx;
  if (mx == -std::numeric_limits<float>::infinity()) mx = 0.0f;  // an all -inf row
  for (std::int64_t j = 0; j < n; ++j) x[j] = exp_f32(x[j] - mx);
  float lane_sum[kLanes] = {};
  for (std::int64_t j = 0; j < body; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += x[j + l];
  float sum = 0.0f;
  for (float s : lane_sum) sum += s;
  for (std::int64_t j = body; j < n; ++j) sum += x[j];
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
  for (std::int64_t j = 0; j < n; ++j) x[j] *= inv;
}

TRIBEV2_CLONES void online_softmax_row(const float* x, std::int64_t kn, std::int64_t width, float scale, float& m,
                                       float& l, float& alpha, float* e) {
  float lane_max[kLanes];
  for (float& v : lane_max) v = -std::numeric_limits<float>::infinity();
  const std::int64_t body = kn / kLanes * kLanes;
  for (std::int64_t j = 0; j < body; j += kLanes)
    for (int q = 0; q < kLanes; ++q) lane_max[q] = std::max(lane_max[q], x[j + q] * scale);
  float mx = m;
  for (std::int64_t j = body; j < kn; ++j) mx = std::max(mx, x[j] * scale);
  for (float v : lane_max) mx = std::max(mx, v);
  alpha = online_alpha(m, mx);
  const float c = scale * kLog2e, b = mx * kLog2e;
  for (std::int64_t j = 0; j < kn; ++j) e[j] = exp2_poly(x[j] * c - b);
  for (std::int64_t j = kn; j < width; ++j) e[j] = 0.0f;
  float lane_sum[kLanes] = {};
  const std::int64_t wbody = width / kLanes * kLanes;
  for (std::int64_t j = 0; j < wbody; j += kLanes)
    for (int q = 0; q < kLanes; ++q) lane_sum[q] += e[j + q];
  float sum = 0.0f;
  for (float v : lane_sum) sum += v;
  for (std::int64_t j = wbody; j < width; ++j) sum += e[j];
  l = l * alpha + sum;
  m = mx;
}

}  // namespace

void online_softmax_portable(const float* s, std::int64_t rows, std::int64_t kn, std::int64_t width,
                             std::int64_t lds, float scale, float* m, float* l, float* alpha, std::uint16_t* p,
                             std::int64_t ldp) {
  std::vector<float> e(static_cast<std::size_t>(width));
  for (std::int64_t r = 0; r < rows; ++r) {
    online_softmax_row(s + r * lds, kn, width, scale, m[r], l[r], alpha[r], e.data());
    for (std::int64_t j = 0; j < width; ++j) p[r * ldp + j] = f32_to_bf16(e[static_cast<std::size_t>(j)]);
  }
}

void online_softmax_f32_portable(float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                                 float scale, float* m, float* l, float* alpha) {
  for (std::int64_t r = 0; r < rows; ++r) online_softmax_row(s + r * lds, kn, width, scale, m[r], l[r], alpha[r], s + r * lds);
}

void softmax_rows_portable(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale) {
  for (std::int64_t r = 0; r < rows; ++r) softmax_row(x + r * ld, cols, scale);
}

}  // namespace tribev2::detail
