// Internal: vectorised twins of some kernels (kernels_avx512.cpp, compiled for AVX-512), called
// by kernels.cpp / attention.cpp only when cpu_features reports AVX-512.
#pragma once

#include <cstdint>
#include <cstring>

namespace tribev2::detail {

// Rows [r0, r1) of x [*, dim]: (x - mean) / sqrt(var + eps) * gamma + beta (either optional),
// mean and variance in two passes in double (PyTorch's float32 result to rounding). The
// AVX-512 version sums in 16 double lanes; its twin in order.
void layer_norm_avx512(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                       const float* gamma, const float* beta, float eps);
void layer_norm_portable(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                         const float* gamma, const float* beta, float eps);
// x <- gelu(x), n values.
void gelu_avx512(float* x, std::int64_t n);
// out <- a * sigmoid(g), n values (silu: a = g = out = x).
void mul_sigmoid_avx512(const float* a, const float* g, float* out, std::int64_t n);
// Each row: x <- softmax(x * scale) over cols (-inf entries give 0; a row of -inf gives 0).
void softmax_rows_avx512(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
// The same softmax for CPUs without AVX-512 (softmax_portable.cpp: vectorised by the compiler).
void softmax_rows_portable(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
// The online softmax's exponential: exp(y) = 2^t with t = y * log2(e) clamped at kExp2Floor
// (2^-126, the smallest normal float: weights below it are zero once rounded to bf16), 2^t =
// 2^round(t) * p(t - round(t)), p fitted for relative error on [-1/2, 1/2]: 2.1e-7 in float32
// arithmetic (the weights are then rounded to bf16, 2^-9).
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kExp2Floor = -126.0f;
constexpr float kExp2Poly[6] = {1.000000119e+00f, 6.931469440e-01f, 2.402212173e-01f,
                                5.550742522e-02f, 9.675464593e-03f, 1.326697529e-03f};
// 2^t by those steps, one value (the portable online softmax; both use it for alpha).
inline float exp2_poly(float t) {
  t = t < kExp2Floor ? kExp2Floor : t;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest even (|t| < 2^22)
  const float f = t - n;
  float p = kExp2Poly[5];
  for (int c = 4; c >= 0; --c) p = p * f + kExp2Poly[c];
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, 4);
  return p * two_n;
}
// The factor of a running sum when the maximum moves from m to mnew >= m: 0 from -inf (nothing
// summed yet), exactly 1 when it stays (the caller then skips the rescale), else e^(m - mnew).
inline float online_alpha(float m, float mnew) {
  if (m == mnew) return 1.0f;
  return m < -3.0e38f ? 0.0f : exp2_poly((m - mnew) * kLog2e);
}

// One key block of an online softmax (FlashAttention's). Rows of s [rows, >= kn] (stride lds)
// hold raw scores of kn <= width keys (width a multiple of 32). Per row r:
// m' = max(m[r], max_j s[r, j] * scale), alpha[r] = online_alpha(m[r], m'), the weights
// exp(s[r, j] * scale - m') for j < kn and 0 up to width written to p (bf16, nearest even,
// row stride ldp), l[r] <- l[r] * alpha[r] + the sum of the float32 weights, m[r] <- m'.
void online_softmax_avx512(const float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                           float scale, float* m, float* l, float* alpha, std::uint16_t* p, std::int64_t ldp);
void online_softmax_portable(const float* s, std::int64_t rows, std::int64_t kn, std::int64_t width,
                             std::int64_t lds, float scale, float* m, float* l, float* alpha, std::uint16_t* p,
                             std::int64_t ldp);
// The same with float32 weights written over the scores (width <= lds; a multiple of 16).
void online_softmax_f32_avx512(float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                               float scale, float* m, float* l, float* alpha);
void online_softmax_f32_portable(float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                                 float scale, float* m, float* l, float* alpha);
// dst[c, r] = src[r, c] for r < rows, c < cols.
void transpose_avx512(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds, float* dst,
                      std::int64_t ldd);
// out[r, :] = x[r, :] * (scale / max(||x[r, :]||, 1e-12)), the norm accumulated in double.
void scale_norm_avx512(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                       double scale);

}  // namespace tribev2::detail
