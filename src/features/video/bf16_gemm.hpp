// Private to tribev2_video: bfloat16 matrix products with float32 accumulation, the semantics
// of PyTorch's bf16 GEMMs: C = bf16(A) * bf16(B)^T, every product exact, sums in float32.
//
// B (a weight, or keys/values in attention) is rounded to bf16 once and packed into tiles of
// 16 columns x 32 k (pairs of k interleaved, AMX's "VNNI" layout); A is rounded row block by
// row block. On CPUs with AMX-BF16 the tiles go to the tile unit; elsewhere a portable path
// widens them back to float32 for sgemm, which gives the same products (bf16 x bf16 is exact in
// float32) and differs only in summation order.
#pragma once

#include <cstdint>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/gemm.hpp"

namespace tribev2::features::video {

struct Bf16PackedB {
  std::int64_t n = 0, k = 0;    // logical sizes: C[M, n] = A[M, k] * B^T
  std::int64_t n_blocks = 0;    // ceil(n / 16)
  std::int64_t k_blocks = 0;    // ceil(k / 32)
  std::vector<std::uint16_t> tiles;  // [n_blocks][k_blocks][16 k-pairs][16 n][2], zero padded

  static constexpr int kTileN = 16;
  static constexpr int kTileK = 32;
  const std::uint16_t* tile(std::int64_t nb, std::int64_t kb) const {
    return tiles.data() + (nb * k_blocks + kb) * (kTileN * kTileK);
  }
};

// B stored [n, k] (an nn.Linear weight, any float dtype), rounded to nearest even.
Bf16PackedB pack_bf16_nk(const MatView& B);
// B stored [k, n] row-major float32 with leading dimension ld (e.g. attention values).
Bf16PackedB pack_bf16_kn(const float* B, std::int64_t k, std::int64_t n, std::int64_t ld);
// Packs into an existing object, reusing its storage (attention repacks per head).
void pack_bf16_nk_f32(const float* B, std::int64_t n, std::int64_t k, std::int64_t ld, Bf16PackedB& out);
void pack_bf16_kn_into(const float* B, std::int64_t k, std::int64_t n, std::int64_t ld, Bf16PackedB& out);

// C[M, n] (ldc) = bf16(A[M, k]) (lda) * B^T, or += when accumulate. Splits rows over the pool
// (nested calls run inline).
void gemm_bf16(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C,
               std::int64_t ldc, bool accumulate);

// Whether the AMX-BF16 kernel is used on this machine (CPU support and OS permission).
bool bf16_amx_available();

namespace reference {
// Plain loops: C = sum_k bf16(A[i,k]) * bf16(B[j,k]) in double, rounded to float, (+ C).
void gemm_bf16(std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C, std::int64_t ldc,
               bool accumulate);
}  // namespace reference

// Round-to-nearest-even to bfloat16 and back (the value a bf16 tensor holds).
float round_bf16(float x);
// The same rounding as tribev2::f32_to_bf16 over n values (vectorised).
void f32_to_bf16_n(const float* src, std::uint16_t* dst, std::int64_t n);

namespace detail {
// The portable path on its own (tests compare it with the AMX kernel and the reference).
void gemm_bf16_portable_rows(std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C,
                             std::int64_t ldc, bool accumulate);
// The AMX kernel (bf16_gemm_amx.cpp, compiled with -mamx-tile -mamx-bf16): rows [0, M) of C,
// A already rounded to bf16 and padded to B.k_blocks * 32 columns (row stride lda_bf16).
void gemm_bf16_amx_rows(std::int64_t M, const std::uint16_t* A, std::int64_t lda_bf16, const Bf16PackedB& B,
                        float* C, std::int64_t ldc, bool accumulate);
bool amx_request_permission();
}  // namespace detail

}  // namespace tribev2::features::video
