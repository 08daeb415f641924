// The online softmax's steps on AVX-512 (kernels_simd.hpp: online_alpha, exp2_poly), shared by
// the fused attention's bf16 (attention_flash_avx512.cpp) and float32 (kernels_avx512.cpp)
// softmax kernels. Only for translation units compiled with AVX-512 flags.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels_simd.hpp"
#include "simd_avx512.hpp"

namespace tribev2::detail::avx512 {

// One row of an online softmax block: updates m, l, alpha (kernels_simd.hpp) and hands the
// weights of keys [j, j + 16) (zero from kn on) to store(j, w) for j < width, in order.
template <class Store>
inline void online_softmax_row(const float* x, std::int64_t kn, std::int64_t width, float scale, float& m, float& l,
                               float& alpha, Store store) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 mx = ninf;
  if (scale > 0.0f) {  // max(x) * scale = max(x * scale), one operation fewer
    for (std::int64_t j = 0; j < kn; j += 16)
      mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, tail_mask(kn - j), x + j));
    mx = _mm512_mul_ps(mx, _mm512_set1_ps(scale));
  } else {
    for (std::int64_t j = 0; j < kn; j += 16)
      mx =
          _mm512_max_ps(mx, _mm512_mul_ps(_mm512_mask_loadu_ps(ninf, tail_mask(kn - j), x + j), _mm512_set1_ps(scale)));
  }
  const float mnew = std::max(m, _mm512_reduce_max_ps(mx));
  alpha = online_alpha(m, mnew);
  // exp(x * scale - mnew) = 2^t, t = x * scale * log2(e) - mnew * log2(e): 2^frac by the
  // polynomial, times 2^round(t) (kExp2Poly).
  const __m512 vc = _mm512_set1_ps(scale * kLog2e), vb = _mm512_set1_ps(mnew * kLog2e);
  const __m512 lo = _mm512_set1_ps(kExp2Floor);
  __m512 sum = _mm512_setzero_ps();
  for (std::int64_t j = 0; j < width; j += 16) {
    const __m512 t = _mm512_max_ps(_mm512_fmsub_ps(_mm512_loadu_ps(x + j), vc, vb), lo);
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n);
    __m512 q = _mm512_set1_ps(kExp2Poly[5]);
    for (int c = 4; c >= 0; --c) q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(kExp2Poly[c]));
    const __m512 w = _mm512_maskz_scalef_ps(tail_mask(kn - j), q, n);
    sum = _mm512_add_ps(sum, w);
    store(j, w);
  }
  l = l * alpha + _mm512_reduce_add_ps(sum);
  m = mnew;
}

}  // namespace tribev2::detail::avx512
