// AVX-512 helpers: vector exp, THE GELU (erf_fit.hpp) and a 16x16 transpose. Only for translation units
// compiled with AVX-512 flags (the *_avx512.cpp / *_bf16.cpp kernel files).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "erf_fit.hpp"
#include "gemm_kernels.hpp"

namespace tribev2::detail::avx512 {

inline __mmask16 tail_mask(std::int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : n <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << n) - 1u);
}

// exp(x), Cephes' single-precision polynomial on [-ln2/2, ln2/2] (about 1 ulp), scaled by 2^n
// with vscalefps. exp(-inf) and anything below -103.97 give exactly 0.
inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-103.972076f), hi = _mm512_set1_ps(88.7228394f);
  const __mmask16 zero = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_scalef_ps(static_cast<__mmask16>(~zero), p, n);
}

// exp on 8 doubles: the steps of detail::exp_fit (erf_fit.hpp), 2^k by vscalefpd.
inline __m512d exp_fit_pd(__m512d v) {
  v = _mm512_min_pd(_mm512_max_pd(v, _mm512_set1_pd(-700.0)), _mm512_set1_pd(700.0));
  const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(v, _mm512_set1_pd(1.4426950408889634074)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(6.93147180369123816490e-01), v);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.90821492927058770002e-10), r);
  static constexpr double kTaylor[12] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                                         1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,    1.0 / 24.0,
                                         1.0 / 6.0,        0.5,             1.0,            1.0};
  __m512d p = _mm512_set1_pd(kTaylor[0]);
  for (int i = 1; i < 12; ++i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kTaylor[i]));
  return _mm512_scalef_pd(p, k);
}

// erf on 8 doubles: the steps of detail::erf_fit (erf_fit.hpp).
inline __m512d erf_fit_pd(__m512d u) {
  const __m512d sign = _mm512_and_pd(u, _mm512_set1_pd(-0.0));
  const __m512d z = _mm512_andnot_pd(_mm512_set1_pd(-0.0), u);
  const __m512d t = _mm512_div_pd(_mm512_set1_pd(1.0), _mm512_fmadd_pd(_mm512_set1_pd(0.5), z, _mm512_set1_pd(1.0)));
  __m512d p = _mm512_set1_pd(kErfcFit[0]);
  for (int i = 1; i < 11; ++i) p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(kErfcFit[i]));
  const __m512d e = exp_fit_pd(_mm512_fnmadd_pd(z, z, p));
  const __m512d y = _mm512_fnmadd_pd(t, e, _mm512_set1_pd(1.0));
  return _mm512_or_pd(y, sign);
}

// 0.5 x (1 + erf(x / sqrt 2)) on 16 floats: THE GELU (detail::gelu_erf_fit, erf_fit.hpp),
// the erf in double on two halves of 8.
inline __m512 gelu_ps(__m512 x) {
  const __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752440f));
  const __m256 e_lo = _mm512_cvtpd_ps(erf_fit_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(u))));
  const __m256 e_hi = _mm512_cvtpd_ps(erf_fit_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(u, 1))));
  const __m512 e = _mm512_insertf32x8(_mm512_castps256_ps512(e_lo), e_hi, 1);
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// In-place transpose of 16 rows of 16 floats.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // u[4g + q], 128-bit lane L: rows 4g..4g+3 of column 4L + q.
  for (int q = 0; q < 4; ++q) {
    t[q] = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88);
    t[4 + q] = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xdd);
    t[8 + q] = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
    t[12 + q] = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xdd);
  }
  for (int q = 0; q < 4; ++q) {
    r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xdd);
    r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xdd);
  }
}

// Loads 16 values of a row stored as F32 / F16 / BF16 (masked: elements outside m read as 0).
inline __m512 load_f32(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load_bf16(const std::uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
inline __m512 load_f16(const std::uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// GEMM epilogue on 16 columns of row i of a tile (v = the finished sum):
//   C[i, j..] = act(v + bias) + beta * C_old + residual * residual_scale     (masked by m)
inline void finish16(__m512 v, std::int64_t i, std::int64_t j, __mmask16 m, float* C, std::int64_t ldc,
                     const TileEpilogue& ep) {
  float* c = C + i * ldc + j;
  if (ep.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, ep.bias + j));
  if (ep.gelu) v = gelu_ps(v);
  if (ep.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_set1_ps(ep.beta), _mm512_maskz_loadu_ps(m, c), v);
  if (ep.residual) {
    const __m512 r = _mm512_maskz_loadu_ps(m, ep.residual + i * ep.ldr + j);
    v = ep.residual_scale ? _mm512_fmadd_ps(r, _mm512_maskz_loadu_ps(m, ep.residual_scale + j), v) : _mm512_add_ps(v, r);
  }
  _mm512_mask_storeu_ps(c, m, v);
}

}  // namespace tribev2::detail::avx512
