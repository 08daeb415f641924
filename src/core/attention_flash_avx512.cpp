// The fused bf16 attention's softmax step for CPUs with AVX512-BF16 (attention_flash.hpp):
// the exponentials of one key block written straight as the bf16 weights of the P V product.
// Compiled with the bf16 kernels' flags; reached only when cpu_features reports AVX512-BF16.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "online_softmax_avx512.hpp"

namespace tribev2::detail {

using namespace avx512;

void online_softmax_avx512(const float* s, std::int64_t rows, std::int64_t kn, std::int64_t width, std::int64_t lds,
                           float scale, float* m, float* l, float* alpha, std::uint16_t* p, std::int64_t ldp) {
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint16_t* pi = p + r * ldp;
    __m512 first;  // keys j .. j + 15 of a pair of vectors, kept until the second arrives
    online_softmax_row(s + r * lds, kn, width, scale, m[r], l[r], alpha[r], [&](std::int64_t j, __m512 w) {
      if (j % 32 == 0) {
        first = w;
        return;
      }
      const __m512bh h = _mm512_cvtne2ps_pbh(w, first);  // keys j - 16 .. j + 15 in order, nearest even
      __m512i bits;
      std::memcpy(&bits, &h, sizeof bits);
      _mm512_storeu_si512(pi + j - 16, bits);
    });
  }
}

}  // namespace tribev2::detail
