// The fused bf16 attention's softmax step for CPUs with AVX512-BF16 (attention_flash.hpp):
// the exponentials of one key block written straight as the bf16 weights of the P V product.
// Compiled with the bf16 kernels' flags; reached only when cpu_features reports AVX512-BF16.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels_simd.hpp"
#include "simd_avx512.hpp"

namespace tribev2::detail {

using namespace avx512;

void online_softmax_avx512(const float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                           float scale, float* m, float* l, float* alpha, std::uint16_t* p, std::int64_t ldp) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  const __m512 vs = _mm512_set1_ps(scale);
  const __m512 vc = _mm512_set1_ps(scale * kLog2e), lo = _mm512_set1_ps(kExp2Floor);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xi = s + r * lds;
    __m512 mx = ninf;
    if (scale > 0.0f) {  // max(x) * scale = max(x * scale), one operation fewer
      for (std::int64_t j = 0; j < kn; j += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, tail_mask(kn - j), xi + j));
      mx = _mm512_mul_ps(mx, vs);
    } else {
      for (std::int64_t j = 0; j < kn; j += 16)
        mx = _mm512_max_ps(mx, _mm512_mul_ps(_mm512_mask_loadu_ps(ninf, tail_mask(kn - j), xi + j), vs));
    }
    const float mnew = std::max(m[r], _mm512_reduce_max_ps(mx));
    alpha[r] = online_alpha(m[r], mnew);
    // exp(x * scale - mnew) = 2^t, t = x * scale * log2(e) - mnew * log2(e): 2^frac by the
    // polynomial, times 2^round(t) (kernels_simd.hpp: kExp2Poly).
    const __m512 vb = _mm512_set1_ps(mnew * kLog2e);
    auto weights = [&](std::int64_t j) {
      const __m512 t = _mm512_max_ps(_mm512_fmsub_ps(_mm512_loadu_ps(xi + j), vc, vb), lo);
      const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512 f = _mm512_sub_ps(t, n);
      __m512 q = _mm512_set1_ps(kExp2Poly[5]);
      for (int c = 4; c >= 0; --c) q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(kExp2Poly[c]));
      return _mm512_maskz_scalef_ps(tail_mask(kn - j), q, n);
    };
    __m512 sum = _mm512_setzero_ps();
    std::uint16_t* pi = p + r * ldp;
    for (std::int64_t j = 0; j < width; j += 32) {
      const __m512 e0 = weights(j), e1 = weights(j + 16);
      sum = _mm512_add_ps(_mm512_add_ps(sum, e0), e1);
      const __m512bh h = _mm512_cvtne2ps_pbh(e1, e0);  // keys j .. j + 31 in order, nearest even
      __m512i bits;
      std::memcpy(&bits, &h, sizeof bits);
      _mm512_storeu_si512(pi + j, bits);
    }
    l[r] = l[r] * alpha[r] + _mm512_reduce_add_ps(sum);
    m[r] = mnew;
  }
}

}  // namespace tribev2::detail
