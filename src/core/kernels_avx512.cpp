// AVX-512 versions of the element-wise kernels (see kernels_simd.hpp). Compiled with AVX-512
// flags; only reached after the runtime CPU check.
#include "kernels_simd.hpp"

#include <cmath>

#include "online_softmax_avx512.hpp"
#include "simd_avx512.hpp"

namespace tribev2::detail {

using namespace avx512;

void gelu_avx512(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, gelu_ps(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

void mul_sigmoid_avx512(const float* a, const float* g, float* out, std::int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (std::int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    // 1 / (1 + exp(-g)): exp overflows to +inf below g = -88.7, giving 0 as it should.
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(m, g + i)));
    _mm512_mask_storeu_ps(out + i, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_add_ps(one, e)));
  }
}

void softmax_rows_avx512(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  const __m512 vs = _mm512_set1_ps(scale);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* xi = x + r * ld;
    __m512 mx = ninf;
    for (std::int64_t j = 0; j < cols; j += 16) {
      const __mmask16 m = tail_mask(cols - j);
      mx = _mm512_max_ps(mx, _mm512_mul_ps(_mm512_mask_loadu_ps(ninf, m, xi + j), vs));
    }
    float mxs = _mm512_reduce_max_ps(mx);
    if (mxs == -INFINITY) mxs = 0.0f;  // fully masked row: all weights 0
    const __m512 vm = _mm512_set1_ps(mxs);
    __m512 sum = _mm512_setzero_ps();
    for (std::int64_t j = 0; j < cols; j += 16) {
      const __mmask16 m = tail_mask(cols - j);
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_mul_ps(_mm512_mask_loadu_ps(ninf, m, xi + j), vs), vm));
      _mm512_mask_storeu_ps(xi + j, m, e);
      sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, e));
    }
    const float s = _mm512_reduce_add_ps(sum);
    const __m512 inv = _mm512_set1_ps(s > 0.0f ? 1.0f / s : 0.0f);
    for (std::int64_t j = 0; j < cols; j += 16) {
      const __mmask16 m = tail_mask(cols - j);
      _mm512_mask_storeu_ps(xi + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xi + j), inv));
    }
  }
}

void online_softmax_f32_avx512(float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                               float scale, float* m, float* l, float* alpha) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* xi = s + r * lds;
    online_softmax_row(xi, kn, width, scale, m[r], l[r], alpha[r], [&](std::int64_t j, __m512 w) { _mm512_storeu_ps(xi + j, w); });
  }
}

void layer_norm_avx512(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                       const float* gamma, const float* beta, float eps) {
  auto widen = [](__m512 v, __m512d& lo, __m512d& hi) {
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  };
  for (std::int64_t r = r0; r < r1; ++r) {
    const float* xi = x + r * dim;
    float* yi = out + r * dim;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (std::int64_t i = 0; i < dim; i += 16) {
      __m512d lo, hi;
      widen(_mm512_maskz_loadu_ps(tail_mask(dim - i), xi + i), lo, hi);
      s0 = _mm512_add_pd(s0, lo);
      s1 = _mm512_add_pd(s1, hi);
    }
    const double mean = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / static_cast<double>(dim);
    const __m512d vm = _mm512_set1_pd(mean);
    __m512d v0 = _mm512_setzero_pd(), v1 = _mm512_setzero_pd();
    for (std::int64_t i = 0; i < dim; i += 16) {
      const __mmask16 m = tail_mask(dim - i);
      __m512d lo, hi;
      widen(_mm512_maskz_loadu_ps(m, xi + i), lo, hi);
      // Lanes past dim would add mean^2: keep them out.
      const __m512d d0 = _mm512_maskz_sub_pd(static_cast<__mmask8>(m & 0xff), lo, vm);
      const __m512d d1 = _mm512_maskz_sub_pd(static_cast<__mmask8>(m >> 8), hi, vm);
      v0 = _mm512_fmadd_pd(d0, d0, v0);
      v1 = _mm512_fmadd_pd(d1, d1, v1);
    }
    const double var = _mm512_reduce_add_pd(_mm512_add_pd(v0, v1)) / static_cast<double>(dim);
    const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps))));
    const __m512 mf = _mm512_set1_ps(static_cast<float>(mean));
    for (std::int64_t i = 0; i < dim; i += 16) {
      const __mmask16 m = tail_mask(dim - i);
      // The portable twin's operations one by one: the explicit-rounding forms, which the
      // compiler does not contract into fused multiply-adds (it would with _mm512_mul_ps).
      constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      __m512 v = _mm512_mul_round_ps(_mm512_sub_round_ps(_mm512_maskz_loadu_ps(m, xi + i), mf, kRne), inv, kRne);
      if (gamma) v = _mm512_mul_round_ps(v, _mm512_maskz_loadu_ps(m, gamma + i), kRne);
      if (beta) v = _mm512_add_round_ps(v, _mm512_maskz_loadu_ps(m, beta + i), kRne);
      _mm512_mask_storeu_ps(yi + i, m, v);
    }
  }
}

void transpose_avx512(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds, float* dst,
                      std::int64_t ldd) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += 16) {
    const std::int64_t rw = rows - r0 < 16 ? rows - r0 : 16;
    const __mmask16 rm = tail_mask(rw);
    for (std::int64_t c0 = 0; c0 < cols; c0 += 16) {
      const std::int64_t cw = cols - c0 < 16 ? cols - c0 : 16;
      const __mmask16 cm = tail_mask(cw);
      __m512 v[16];
      for (int i = 0; i < 16; ++i)
        v[i] = i < rw ? _mm512_maskz_loadu_ps(cm, src + (r0 + i) * lds + c0) : _mm512_setzero_ps();
      transpose16(v);
      for (int j = 0; j < cw; ++j) _mm512_mask_storeu_ps(dst + (c0 + j) * ldd + r0, rm, v[j]);
    }
  }
}

void scale_norm_avx512(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                       double scale) {
  for (std::int64_t r = r0; r < r1; ++r) {
    const float* xi = x + r * dim;
    float* yi = out + r * dim;
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (std::int64_t i = 0; i < dim; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(tail_mask(dim - i), xi + i);
      const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
      const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
      a0 = _mm512_fmadd_pd(lo, lo, a0);
      a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    const double ss = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    const double norm = std::sqrt(ss) > 1e-12 ? std::sqrt(ss) : 1e-12;
    const __m512 f = _mm512_set1_ps(static_cast<float>(scale / norm));
    for (std::int64_t i = 0; i < dim; i += 16) {
      const __mmask16 m = tail_mask(dim - i);
      _mm512_mask_storeu_ps(yi + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xi + i), f));
    }
  }
}

}  // namespace tribev2::detail
