#include "tribev2/core/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "erf_fit.hpp"
#include "kernels_simd.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/error.hpp"

// The portable LayerNorm (kernels_simd.hpp), the AVX-512 one's twin.
namespace tribev2::detail {
void layer_norm_portable(const float* x, float* out, std::int64_t r0, std::int64_t r1, std::int64_t dim,
                         const float* gamma, const float* beta, float eps) {
  for (std::int64_t r = r0; r < r1; ++r) {
    const float* xi = x + r * dim;
    float* yi = out + r * dim;
    double mean = 0.0;
    for (std::int64_t i = 0; i < dim; ++i) mean += xi[i];
    mean /= static_cast<double>(dim);
    double var = 0.0;
    for (std::int64_t i = 0; i < dim; ++i) {
      const double d = xi[i] - mean;
      var += d * d;
    }
    var /= static_cast<double>(dim);
    const float inv = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    const float m = static_cast<float>(mean);
    for (std::int64_t i = 0; i < dim; ++i) {
      float v = (xi[i] - m) * inv;
      if (gamma) v *= gamma[i];
      if (beta) v += beta[i];
      yi[i] = v;
    }
  }
}
}  // namespace tribev2::detail

namespace tribev2::kernels {

namespace {
// Rows per task: enough work per chunk that scheduling overhead stays small.
std::int64_t row_grain(std::int64_t dim) { return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(dim, 1)); }
constexpr std::int64_t kElemGrain = 1 << 14;

bool use_avx512() {
#if defined(TRIBEV2_X86_KERNELS)
  return cpu::level() >= cpu::Level::Avx512;
#else
  return false;
#endif
}
}  // namespace

void layer_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
                const float* gamma, const float* beta, float eps) {
  const bool fast = use_avx512();
  ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
    if (fast) detail::layer_norm_avx512(x, out, r0, r1, dim, gamma, beta, eps);
    else detail::layer_norm_portable(x, out, r0, r1, dim, gamma, beta, eps);
  }, row_grain(dim));
}

void rms_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
              const float* weight, float eps) {
  ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const float* xi = x + r * dim;
      float* yi = out + r * dim;
      double ss = 0.0;
      for (std::int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xi[i]) * xi[i];
      const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
      for (std::int64_t i = 0; i < dim; ++i) yi[i] = (weight ? weight[i] : 1.0f) * (xi[i] * inv);
    }
  }, row_grain(dim));
}

void scale_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
                float g) {
  if (!use_avx512()) {
    ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
      reference::scale_norm(x + r0 * dim, out + r0 * dim, r1 - r0, dim, g);
    }, row_grain(dim));
    return;
  }
  const double scale = std::sqrt(static_cast<double>(dim)) * g;
  ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
    detail::scale_norm_avx512(x, out, r0, r1, dim, scale);
  }, row_grain(dim));
}

void unit_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim) {
  ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const float* xi = x + r * dim;
      float* yi = out + r * dim;
      double ss = 0.0;
      for (std::int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xi[i]) * xi[i];
      const float f = static_cast<float>(1.0 / std::sqrt(ss));
      for (std::int64_t i = 0; i < dim; ++i) yi[i] = xi[i] * f;
    }
  }, row_grain(dim));
}

void gelu_erf(const Context& ctx, float* x, std::int64_t n) {
  const bool fast = use_avx512();
  ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) {
    if (fast) {
      detail::gelu_avx512(x + i0, i1 - i0);
    } else {
      for (std::int64_t i = i0; i < i1; ++i) x[i] = detail::gelu_erf_fit(x[i]);
    }
  }, kElemGrain);
}

void relu(const Context& ctx, float* x, std::int64_t n) {
  ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }, kElemGrain);
}

void elu(const Context& ctx, float* x, std::int64_t n, float alpha) {
  ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) x[i] = x[i] > 0.0f ? x[i] : alpha * std::expm1(x[i]);
  }, kElemGrain);
}

void silu(const Context& ctx, float* x, std::int64_t n) {
  ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) { mul_sigmoid(x + i0, x + i0, x + i0, i1 - i0); },
                          kElemGrain);
}

void mul_sigmoid(const float* a, const float* g, float* out, std::int64_t n) {
  // The scalar expf per value was ~9 % of w2v-BERT's f32 forward (SiLU of two FFNs of
  // 4096 channels per frame, and the GLU); the vector exp is within ~1 ulp.
  if (use_avx512()) return detail::mul_sigmoid_avx512(a, g, out, n);
  for (std::int64_t i = 0; i < n; ++i) out[i] = a[i] / (1.0f + std::exp(-g[i]));
}

void prelu(const Context& ctx, float* x, std::int64_t n, float slope) {
  ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) x[i] = x[i] >= 0.0f ? x[i] : slope * x[i];
  }, kElemGrain);
}

void softmax_rows(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  softmax_rows_scaled(x, rows, cols, ld, 1.0f);
}

void softmax_rows_scaled(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale) {
  if (use_avx512()) return detail::softmax_rows_avx512(x, rows, cols, ld, scale);
  detail::softmax_rows_portable(x, rows, cols, ld, scale);
}

void transpose(const Context& ctx, const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds,
               float* dst, std::int64_t ldd) {
  const bool fast = use_avx512();
  // Blocks of 16 source rows per task: each task writes a 16-wide stripe of every dst row.
  ctx.pool().parallel_for((rows + 15) / 16, [&](std::int64_t b0, std::int64_t b1) {
    const std::int64_t r0 = b0 * 16, r1 = std::min(rows, b1 * 16);
    if (fast) detail::transpose_avx512(src + r0 * lds, r1 - r0, cols, lds, dst + r0, ldd);
    else reference::transpose(src + r0 * lds, r1 - r0, cols, lds, dst + r0, ldd);
  }, std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(cols, 1)));
}

void add_row_vector(float* y, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                    const float* bias) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* yi = y + r * ld;
    for (std::int64_t j = 0; j < cols; ++j) yi[j] += bias[j];
  }
}

void rope_rotate_half(const Context& ctx, float* x, std::int64_t rows, std::int64_t ld, int heads,
                      int head_dim, int rot_dim, const float* cos_t, const float* sin_t) {
  TRIBEV2_CHECK(rot_dim % 2 == 0 && rot_dim <= head_dim, "rope: rot_dim ", rot_dim,
                " must be even and at most head_dim ", head_dim);
  const int half = rot_dim / 2;
  ctx.pool().parallel_for(rows, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const float* c = cos_t + r * half;
      const float* s = sin_t + r * half;
      for (int h = 0; h < heads; ++h) {
        float* u = x + r * ld + static_cast<std::int64_t>(h) * head_dim;
        for (int i = 0; i < half; ++i) {
          const float a = u[i];
          const float b = u[i + half];
          u[i] = a * c[i] - b * s[i];
          u[i + half] = b * c[i] + a * s[i];
        }
      }
    }
  }, 16);
}

void adaptive_avg_pool(const float* x, float* out, std::int64_t outer, std::int64_t T,
                       std::int64_t To, std::int64_t inner) {
  TRIBEV2_CHECK(T > 0 && To > 0, "adaptive_avg_pool: lengths must be positive (T=", T, ", To=", To, ")");
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < To; ++j) {
      const std::int64_t s = (j * T) / To;
      const std::int64_t e = ((j + 1) * T + To - 1) / To;
      float* dst = out + (o * To + j) * inner;
      for (std::int64_t c = 0; c < inner; ++c) dst[c] = 0.0f;
      for (std::int64_t t = s; t < e; ++t) {
        const float* src = x + (o * T + t) * inner;
        for (std::int64_t c = 0; c < inner; ++c) dst[c] += src[c];
      }
      const float inv = 1.0f / static_cast<float>(e - s);
      for (std::int64_t c = 0; c < inner; ++c) dst[c] *= inv;
    }
  }
}

namespace reference {

void silu(float* x, std::int64_t n) { mul_sigmoid(x, x, x, n); }

void mul_sigmoid(const float* a, const float* g, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i] / (1.0 + std::exp(-static_cast<double>(g[i]))));
}

void gelu_erf(float* x, std::int64_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  for (std::int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
}

void softmax_rows_scaled(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* xi = x + r * ld;
    float mx = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < cols; ++j) mx = std::max(mx, xi[j] * scale);
    if (mx == -std::numeric_limits<float>::infinity()) mx = 0.0f;  // fully masked row
    float sum = 0.0f;
    for (std::int64_t j = 0; j < cols; ++j) {
      xi[j] = std::exp(xi[j] * scale - mx);
      sum += xi[j];
    }
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (std::int64_t j = 0; j < cols; ++j) xi[j] *= inv;
  }
}

void scale_norm(const float* x, float* out, std::int64_t rows, std::int64_t dim, float g) {
  const double scale = std::sqrt(static_cast<double>(dim)) * g;
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xi = x + r * dim;
    float* yi = out + r * dim;
    double ss = 0.0;
    for (std::int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xi[i]) * xi[i];
    const double norm = std::max(std::sqrt(ss), 1e-12);
    const float f = static_cast<float>(scale / norm);
    for (std::int64_t i = 0; i < dim; ++i) yi[i] = xi[i] * f;
  }
}

void transpose(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds, float* dst,
               std::int64_t ldd) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
}

}  // namespace reference

}  // namespace tribev2::kernels
