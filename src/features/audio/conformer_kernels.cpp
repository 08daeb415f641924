#include "tribev2/features/audio/conformer_kernels.hpp"

#include "tribev2/core/kernels.hpp"

#include <algorithm>
#include <cmath>

namespace tribev2::features::audio::kernels {

// Cloned for AVX-512, AVX2 and any x86-64 with runtime dispatch (the library's baseline is
// SSE2: 4 floats per multiply-add), as core's portable softmax.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TRIBEV2_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TRIBEV2_CLONES
#endif

void glu(const Context& ctx, const float* x, std::int64_t T, std::int64_t C, float* out) {
  ctx.pool().parallel_for(
      T,
      [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
          const float* a = x + t * 2 * C;
          const float* g = a + C;
          float* o = out + t * C;
          tribev2::kernels::mul_sigmoid(a, g, o, C);
        }
      },
      std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(C, 1)));
}

namespace {

// Rows [t0, t1) of the depthwise convolution.
TRIBEV2_CLONES void conv_rows(const float* x, std::int64_t t0, std::int64_t t1, std::int64_t C, const float* w, int K,
                              float* out) {
  for (std::int64_t t = t0; t < t1; ++t) {
    float* o = out + t * C;
    std::fill_n(o, C, 0.0f);
    const int j0 = static_cast<int>(std::max<std::int64_t>(0, (K - 1) - t));
    for (int j = j0; j < K; ++j) {
      const float* src = x + (t - (K - 1) + j) * C;
      const float* wj = w + static_cast<std::int64_t>(j) * C;
      for (std::int64_t c = 0; c < C; ++c) o[c] += wj[c] * src[c];
    }
  }
}

}  // namespace

void depthwise_causal_conv(const Context& ctx, const float* x, std::int64_t T, std::int64_t C, const float* w, int K,
                           float* out) {
  // Row t reads rows t - K + 1 .. t: channels are the contiguous inner loop, so every tap is
  // one vectorisable multiply-add over a row.
  ctx.pool().parallel_for(
      T, [&](std::int64_t t0, std::int64_t t1) { conv_rows(x, t0, t1, C, w, K, out); },
      std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(C, 1)));
}

TRIBEV2_CLONES void add_relative_key_bias(const float* P, std::int64_t q0, std::int64_t nq, std::int64_t k0,
                                          std::int64_t n_keys, std::int64_t lds, int left, int right, float* scores) {
  const std::int64_t width = static_cast<std::int64_t>(left) + right + 1;
  for (std::int64_t i = 0; i < nq; ++i) {
    const std::int64_t qi = q0 + i - k0;  // the query's position among the block's keys
    const float* p = P + i * width;
    float* s = scores + i * lds;
    // Keys at least `left` frames earlier share row 0; at least `right` later share the last.
    const std::int64_t far_left_end = std::clamp<std::int64_t>(qi - left + 1, 0, n_keys);  // j - qi <= -left
    const std::int64_t near_end = std::clamp<std::int64_t>(qi + right, 0, n_keys);         // j - qi < right
    const float pl = p[0], pr = p[width - 1];
    for (std::int64_t j = 0; j < far_left_end; ++j) s[j] += pl;
    for (std::int64_t j = far_left_end; j < near_end; ++j) s[j] += p[j - qi + left];
    for (std::int64_t j = std::max(near_end, far_left_end); j < n_keys; ++j) s[j] += pr;
  }
}

namespace reference {

void glu(const float* x, std::int64_t T, std::int64_t C, float* out) {
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < C; ++c) {
      const double g = x[t * 2 * C + C + c];
      out[t * C + c] = static_cast<float>(x[t * 2 * C + c] / (1.0 + std::exp(-g)));
    }
}

void depthwise_causal_conv(const float* x, std::int64_t T, std::int64_t C, const float* w, int K, float* out) {
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < C; ++c) {
      double acc = 0.0;
      for (int j = 0; j < K; ++j) {
        const std::int64_t src = t - (K - 1) + j;
        if (src >= 0) acc += static_cast<double>(w[static_cast<std::int64_t>(j) * C + c]) * x[src * C + c];
      }
      out[t * C + c] = static_cast<float>(acc);
    }
}

void add_relative_key_bias(const float* P, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t n_keys,
                           std::int64_t lds, int left, int right, float* scores) {
  const std::int64_t width = static_cast<std::int64_t>(left) + right + 1;
  for (std::int64_t i = 0; i < nq; ++i)
    for (std::int64_t j = 0; j < n_keys; ++j) {
      const std::int64_t d = std::clamp<std::int64_t>(k0 + j - (q0 + i), -left, right);
      scores[i * lds + j] += P[i * width + d + left];
    }
}

}  // namespace reference

}  // namespace tribev2::features::audio::kernels
