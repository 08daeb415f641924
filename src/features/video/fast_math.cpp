#include "fast_math.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace tribev2::features::video {

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

// exp(v) for double on the same plan, Taylor degree 11; v clamped to [-700, 700].
inline double exp_f64(double v) {
  v = v < -700.0 ? -700.0 : v;
  v = v > 700.0 ? 700.0 : v;
  const double k = (v * 1.4426950408889634074 + 6755399441055744.0) - 6755399441055744.0;
  double r = v - k * 6.93147180369123816490e-01;
  r = r - k * 1.90821492927058770002e-10;
  double p = 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::int64_t bits = static_cast<std::int64_t>(static_cast<std::int32_t>(k) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, 8);
  return p * scale;
}

// erf(u) = sign(u) (1 - erfc(|u|)), erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), with P a
// degree-10 least-squares fit of log(erfc(z) / t) + z^2 over z in [0, 10] (Chebyshev nodes in t;
// fitted for this project, max |erf error| 2.4e-9).
inline double erf_f64(double u) {
  const double z = u < 0 ? -u : u;
  const double t = 1.0 / (1.0 + 0.5 * z);
  double p = -0.14491330738655447;
  p = p * t + 0.9902578401685056;
  p = p * t + -2.8369157965013656;
  p = p * t + 4.314971695042093;
  p = p * t + -3.630209570578056;
  p = p * t + 1.7205867135582509;
  p = p * t + -0.7361437343066387;
  p = p * t + 0.2329245075964429;
  p = p * t + 0.35320147899389054;
  p = p * t + 1.0018182174155177;
  p = p * t + -1.2655780417109754;
  const double erfc = t * exp_f64(-z * z + p);
  const double e = 1.0 - erfc;
  return u < 0 ? -e : e;
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

TRIBEV2_CLONES void gelu_span(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const auto e = static_cast<float>(erf_f64(static_cast<double>(v * 0.70710678118654752440f)));
    x[i] = 0.5f * v * (1.0f + e);
  }
}

TRIBEV2_CLONES void erf_span(const double* x, double* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = erf_f64(x[i]);
}

}  // namespace

void softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  for (std::int64_t r = 0; r < rows; ++r) softmax_row(x + r * ld, cols, 1.0f);
}

void scaled_softmax_rows_fast(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale) {
  for (std::int64_t r = 0; r < rows; ++r) softmax_row(x + r * ld, cols, scale);
}

void gelu_erf_fast(const Context& ctx, float* x, std::int64_t n) {
  ctx.pool().parallel_for(
      n, [&](std::int64_t i0, std::int64_t i1) { gelu_span(x + i0, i1 - i0); }, 1 << 14);
}

void erf_fast(const double* x, double* out, std::int64_t n) { erf_span(x, out, n); }

}  // namespace tribev2::features::video
