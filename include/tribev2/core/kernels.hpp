// Element-wise, normalisation and positional kernels shared by the brain model and the
// feature extractors. All operate on float32 rows [rows, dim] with a row stride `ld` where
// useful; `out` may alias `x` unless stated. Rows are spread over the context's pool.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"

namespace tribev2::kernels {

// LayerNorm over the last dim: (x - mean) / sqrt(var + eps) * gamma + beta (biased var).
// gamma/beta may be null (no affine).
void layer_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
                const float* gamma, const float* beta, float eps);
// RMSNorm (Llama): x * 1/sqrt(mean(x^2) + eps) * weight.
void rms_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
              const float* weight, float eps);
// ScaleNorm (x-transformers): x / max(||x||_2, 1e-12) * sqrt(dim) * g.
void scale_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim,
                float g);
// x / ||x||_2 (neuraltrain UnitNorm; no epsilon, as upstream).
void unit_norm(const Context& ctx, const float* x, float* out, std::int64_t rows, std::int64_t dim);

// In-place activations over n contiguous values.
// THE GELU of every network (brain model, V-JEPA2, and gemm_ex's epilogue): 0.5 x (1 + erf(x / sqrt 2))
// with erf to 2.4e-9 (a fit evaluated in double, AVX-512 or scalar: src/core/erf_fit.hpp), i.e.
// std::erf's GELU to float rounding; reference::gelu_erf is its std::erf twin.
void gelu_erf(const Context& ctx, float* x, std::int64_t n);
void relu(const Context& ctx, float* x, std::int64_t n);
void elu(const Context& ctx, float* x, std::int64_t n, float alpha = 1.0f);
void silu(const Context& ctx, float* x, std::int64_t n);       // x * sigmoid(x)
// out[i] = a[i] * sigmoid(g[i]) for n values, in the calling thread (the GLU's gate; out may be a).
void mul_sigmoid(const float* a, const float* g, float* out, std::int64_t n);
void prelu(const Context& ctx, float* x, std::int64_t n, float slope);

// Numerically stable softmax of each row (in place).
void softmax_rows(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld);
// softmax(x * scale) of each row (in place); -inf entries get weight 0, an all -inf row gives 0.
void softmax_rows_scaled(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);

// dst[c, r] = src[r, c] (row strides lds, ldd), blocked and vectorised; spread over the pool.
void transpose(const Context& ctx, const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds,
               float* dst, std::int64_t ldd);

// y[r, :] += bias for r < rows.
void add_row_vector(float* y, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                    const float* bias);

// Rotary embedding with the "rotate_half" layout (GPT-NeoX, HF Llama, x-transformers): in each
// head the first rot_dim features are rotated as u*cos(F) + rotate_half(u)*sin(F), with
// F = cat(angles, angles) and rotate_half(u) = cat(-u[r/2:], u[:r/2]); features beyond rot_dim
// are left unchanged. cos_t/sin_t are [rows, rot_dim/2] tables (one row per position).
void rope_rotate_half(const Context& ctx, float* x, std::int64_t rows, std::int64_t ld, int heads,
                      int head_dim, int rot_dim, const float* cos_t, const float* sin_t);

// Adaptive average pooling along axis 1 of x [outer, T, inner] to [outer, To, inner] with
// PyTorch's bins: start = floor(j*T/To), end = ceil((j+1)*T/To).
void adaptive_avg_pool(const float* x, float* out, std::int64_t outer, std::int64_t T,
                       std::int64_t To, std::int64_t inner);

// Plain twins of the vectorised kernels above (scalar, std::erf / std::exp): what the fast
// versions are tested against.
namespace reference {
void gelu_erf(float* x, std::int64_t n);
// silu and mul_sigmoid with std::exp in double (their AVX-512 versions use avx512::exp_ps).
void silu(float* x, std::int64_t n);
void mul_sigmoid(const float* a, const float* g, float* out, std::int64_t n);
void softmax_rows_scaled(float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, float scale);
void scale_norm(const float* x, float* out, std::int64_t rows, std::int64_t dim, float g);
void transpose(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t lds, float* dst,
               std::int64_t ldd);
}  // namespace reference

}  // namespace tribev2::kernels
