// Internal: non-causal attention in one pass over the keys (bf16 products, or float32), the online
// softmax of FlashAttention (Dao et al. 2022). Per head and block of up to kFlashRows queries,
// for each block of kFlashKeys keys: S = Q K^T (bf16 products, float32 sums), the running row
// maximum m and sum l updated, the weights exp(S * scale - m) rounded to bf16 unnormalised,
// O = O * exp(m_old - m) + P V; O / l at the end. The block's scores stay in L1 instead of a
// [queries x keys] row block going through L2 between the two products and the softmax (the
// unfused order spent a third of V-JEPA2's bf16 attention there). The operands are those of
// PyTorch's CPU flash attention in bf16, which also rounds the unnormalised weights.
#pragma once

#include <cstdint>

#include "gemm_bf16.hpp"
#include "gemm_kernels.hpp"
#include "tribev2/core/attention.hpp"

namespace tribev2::detail {

constexpr std::int64_t kFlashRows = 2 * kPairRows;  // queries per block: two register tiles
constexpr std::int64_t kFlashKeys = 256;            // keys per block: 8 VNNI panels

// One head's keys and values, packed for the bf16 kernels.
struct FlashHead {
  const std::uint16_t* k = nullptr;  // K as VNNI panels: n = tk keys, k = head_dim (PackedBf16 of K, trans)
  const std::uint16_t* v = nullptr;  // V as VNNI panels: k = tk keys, n = head_dim (PackedBf16 of V)
  std::int64_t tk = 0;
  int head_dim = 0;
  float scale = 1.0f;
};

// Queries q [nq <= kFlashRows, head_dim] (row stride ldq) against all keys of `h`; the result
// to out [nq, head_dim] (row stride ldo). `fast`: the AVX512-BF16 and AVX-512 kernels (the CPU
// must have them); else their portable twins, which compute the same roundings. `bias`
// (optional) adds its term to each key block's raw scores (ScoreBias::block).
void flash_bf16_rows(bool fast, const FlashHead& h, const float* q, std::int64_t ldq, std::int64_t nq, float* out,
                     std::int64_t ldo, const ScoreBias::KeyBlockAdder* bias = nullptr);

// The float32 attention in the same order, on the float32 GEMM kernels of any level (kr): K and
// V of one kv head packed per key block (pack_flash_f32), the weights exp(S * scale - m) kept in
// float32 and packed as the P V product's A operand.
struct FlashF32Head {
  const float* k = nullptr;  // key block b's K panels at k + b * flash_f32_block_floats(kr, head_dim)
  const float* v = nullptr;  // and its V panels at v + b * (the same)
  std::int64_t tk = 0;
  int head_dim = 0;
  float scale = 1.0f;
};
// Floats of one key block of packed K (or V).
std::int64_t flash_f32_block_floats(const F32Kernels& kr, int head_dim);
// K [tk, head_dim] (row stride ldk) and V (ldv) of one kv head into kbuf / vbuf, key block by
// key block (each flash_f32_block_floats apart).
void pack_flash_f32(const F32Kernels& kr, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv,
                    std::int64_t tk, int head_dim, float* kbuf, float* vbuf);
// As flash_bf16_rows; `fast_softmax`: the AVX-512 softmax step (the CPU must have AVX-512).
void flash_f32_rows(const F32Kernels& kr, bool fast_softmax, const FlashF32Head& h, const float* q, std::int64_t ldq,
                    std::int64_t nq, float* out, std::int64_t ldo, const ScoreBias::KeyBlockAdder* bias = nullptr);

}  // namespace tribev2::detail
