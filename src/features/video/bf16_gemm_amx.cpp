// The AMX-BF16 tile kernel of gemm_bf16. This file alone is compiled with -mamx-tile
// -mamx-bf16 (see CMakeLists.txt); it is only entered after bf16_amx_available() said yes.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bf16_gemm.hpp"

namespace tribev2::features::video::detail {

namespace {

constexpr int TN = Bf16PackedB::kTileN;  // 16 columns of C per tile
constexpr int TK = Bf16PackedB::kTileK;  // 32 bf16 of k per tile
constexpr int kRowBlock = 32;            // rows of C per register block (2 tiles)
constexpr int kChunkRows = 256;          // rows of A kept hot while all of B streams by

struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

void configure_tiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// k blocks [kb0, kb1) of a 32 x 32 block of C: rows [0, 32) of `a` (row stride lda elements, k
// padded to TK), column tiles nb and nb + 1 (nb + 1 may be absent). The block lives at `acc`
// (row stride ld floats); it is added to when `load`, else overwritten.
void block_32x32(const std::uint16_t* a, std::int64_t lda, const Bf16PackedB& B, std::int64_t nb, bool two,
                 std::int64_t kb0, std::int64_t kb1, float* acc, std::int64_t ld, bool load) {
  const std::int64_t a_stride = lda * 2, c_stride = ld * 4;
  if (load) {
    _tile_loadd(0, acc, c_stride);
    _tile_loadd(2, acc + 16 * ld, c_stride);
    if (two) {
      _tile_loadd(1, acc + 16, c_stride);
      _tile_loadd(3, acc + 16 * ld + 16, c_stride);
    }
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  for (std::int64_t kb = kb0; kb < kb1; ++kb) {
    _tile_loadd(4, a + kb * TK, a_stride);
    _tile_loadd(5, a + 16 * lda + kb * TK, a_stride);
    _tile_loadd(6, B.tile(nb, kb), 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(2, 5, 6);
    if (two) {
      _tile_loadd(7, B.tile(nb + 1, kb), 64);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, acc, c_stride);
  _tile_stored(2, acc + 16 * ld, c_stride);
  if (two) {
    _tile_stored(1, acc + 16, c_stride);
    _tile_stored(3, acc + 16 * ld + 16, c_stride);
  }
}

}  // namespace

// Loop order (cache reuse): chunks of 256 rows of A (kept in L2) -> pairs of 16-column tiles of
// B (the pair's panel is reused by the chunk's eight 32-row blocks) -> [slabs of k] -> 32-row
// blocks. Results (and partial sums between slabs) go through a 256 x 32 float staging block.
void gemm_bf16_amx_rows(std::int64_t M, const std::uint16_t* A, std::int64_t lda, const Bf16PackedB& B, float* C,
                        std::int64_t ldc, bool accumulate) {
  configure_tiles();
#ifndef TRIBEV2_AMX_SLAB
// Splitting k into L1-sized slabs (8 or 16 blocks) measured slower on this machine (the partial
// sums go through memory between slabs), so by default all of k runs in one pass.
#define TRIBEV2_AMX_SLAB (1 << 20)
#endif
  constexpr std::int64_t kSlab = TRIBEV2_AMX_SLAB;
  std::vector<float> staging_store(static_cast<std::size_t>(kChunkRows * 32) + 16);
  float* staging = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(staging_store.data()) + 63) / 64 * 64);
  std::vector<std::uint16_t> a_tail;
  const std::uint16_t* row_block[kChunkRows / kRowBlock];
  for (std::int64_t c0 = 0; c0 < M; c0 += kChunkRows) {
    const std::int64_t chunk = std::min<std::int64_t>(kChunkRows, M - c0);
    const std::int64_t n_rb = (chunk + kRowBlock - 1) / kRowBlock;
    for (std::int64_t rb = 0; rb < n_rb; ++rb) {
      const std::int64_t r0 = c0 + rb * kRowBlock, rows = std::min<std::int64_t>(kRowBlock, M - r0);
      row_block[rb] = A + r0 * lda;
      if (rows < kRowBlock) {  // zero-padded copy of the last rows
        a_tail.assign(static_cast<std::size_t>(kRowBlock * lda), 0);
        std::memcpy(a_tail.data(), A + r0 * lda, static_cast<std::size_t>(rows * lda) * sizeof(std::uint16_t));
        row_block[rb] = a_tail.data();
      }
    }
    const bool single_pass = B.k_blocks <= kSlab;
    for (std::int64_t nb = 0; nb < B.n_blocks; nb += 2) {
      const bool two = nb + 1 < B.n_blocks;
      const std::int64_t j0 = nb * TN;
      const std::int64_t cols = std::min<std::int64_t>(two ? 2 * TN : TN, B.n - j0);
      // Whole 32 x 32 blocks in one pass go straight to C; edges and k slabs use the staging.
      bool staged_any = false;
      for (std::int64_t rb = 0; rb < n_rb; ++rb) {
        const std::int64_t r0 = c0 + rb * kRowBlock, rows = std::min<std::int64_t>(kRowBlock, M - r0);
        if (single_pass && rows == kRowBlock && cols == 2 * TN) {
          block_32x32(row_block[rb], lda, B, nb, two, 0, B.k_blocks, C + r0 * ldc + j0, ldc, accumulate);
          continue;
        }
        staged_any = true;
        float* st = staging + rb * kRowBlock * 32;
        for (std::int64_t i = 0; i < kRowBlock; ++i)
          for (std::int64_t j = 0; j < 32; ++j) st[i * 32 + j] = (accumulate && i < rows && j < cols) ? C[(r0 + i) * ldc + j0 + j] : 0.0f;
        for (std::int64_t k0 = 0; k0 < B.k_blocks; k0 += kSlab)
          block_32x32(row_block[rb], lda, B, nb, two, k0, std::min(k0 + kSlab, B.k_blocks), st, 32, true);
      }
      if (!staged_any) continue;
      for (std::int64_t rb = 0; rb < n_rb; ++rb) {
        const std::int64_t r0 = c0 + rb * kRowBlock, rows = std::min<std::int64_t>(kRowBlock, M - r0);
        if (single_pass && rows == kRowBlock && cols == 2 * TN) continue;
        for (std::int64_t i = 0; i < rows; ++i)
          std::memcpy(C + (r0 + i) * ldc + j0, staging + (rb * kRowBlock + i) * 32, static_cast<std::size_t>(cols) * 4);
      }
    }
  }
  _tile_release();
}

}  // namespace tribev2::features::video::detail
