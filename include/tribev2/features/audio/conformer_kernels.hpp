// Kernels specific to the w2v-BERT conformer (the shared ones live in core/kernels.hpp).
// Activations are float32 rows [T, C]; each kernel has a plain reference twin.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"

namespace tribev2::features::audio::kernels {

// nn.GLU over channels: x [T, 2C] -> out [T, C], out[t, c] = x[t, c] * sigmoid(x[t, C + c]).
void glu(const Context& ctx, const float* x, std::int64_t T, std::int64_t C, float* out);

// Causal depthwise Conv1d without bias (kernel K, K - 1 zeros on the left only):
// out[t, c] = sum_j w[j, c] * x[t - (K - 1) + j, c], x taken as 0 before t = 0.
// w is tap-major [K, C] (the checkpoint's [C, 1, K] transposed). out must not alias x.
void depthwise_causal_conv(const Context& ctx, const float* x, std::int64_t T, std::int64_t C, const float* w, int K,
                           float* out);

// The relative_key term of one block of attention scores: for queries q0 .. q0 + nq - 1 and
// keys k0 .. k0 + n_keys - 1, scores[i, j] += P[i, clamp(k0 + j - (q0 + i), -left, right) + left]
// (scores row stride lds), where P [nq, left + right + 1] holds q_i . E[r] (E = distance_embedding).
void add_relative_key_bias(const float* P, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t n_keys,
                           std::int64_t lds, int left, int right, float* scores);

namespace reference {
void glu(const float* x, std::int64_t T, std::int64_t C, float* out);
void depthwise_causal_conv(const float* x, std::int64_t T, std::int64_t C, const float* w, int K, float* out);
void add_relative_key_bias(const float* P, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t n_keys,
                           std::int64_t lds, int left, int right, float* scores);
}  // namespace reference

}  // namespace tribev2::features::audio::kernels
