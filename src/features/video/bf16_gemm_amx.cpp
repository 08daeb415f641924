// The AMX-BF16 tile kernel of gemm_bf16. This file alone is compiled with -mamx-tile
// -mamx-bf16 (see CMakeLists.txt); it is only entered after bf16_amx_available() said yes.
#include <immintrin.h>

#include <algorithm>
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

// One 32 x 32 block of C: rows [0, 32) of `a` (row stride lda elements, k padded to TK),
// column tiles nb and nb + 1 (nb + 1 may be absent), summed over all k blocks. Results go to
// `out` [32][32] floats (row stride 32), added to its contents when `load` is set.
void block_32x32(const std::uint16_t* a, std::int64_t lda, const Bf16PackedB& B, std::int64_t nb, bool two,
                 float* out, bool load) {
  const std::int64_t a_stride = lda * 2;
  if (load) {
    _tile_loadd(0, out, 32 * 4);
    _tile_loadd(1, out + 16, 32 * 4);
    _tile_loadd(2, out + 16 * 32, 32 * 4);
    _tile_loadd(3, out + 16 * 32 + 16, 32 * 4);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  for (std::int64_t kb = 0; kb < B.k_blocks; ++kb) {
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
  _tile_stored(0, out, 32 * 4);
  _tile_stored(2, out + 16 * 32, 32 * 4);
  if (two) {
    _tile_stored(1, out + 16, 32 * 4);
    _tile_stored(3, out + 16 * 32 + 16, 32 * 4);
  }
}

}  // namespace

void gemm_bf16_amx_rows(std::int64_t M, const std::uint16_t* A, std::int64_t lda, const Bf16PackedB& B, float* C,
                        std::int64_t ldc, bool accumulate) {
  configure_tiles();
  alignas(64) float out[kRowBlock * 32];
  std::vector<std::uint16_t> a_tail;
  for (std::int64_t c0 = 0; c0 < M; c0 += kChunkRows) {
    const std::int64_t chunk = std::min<std::int64_t>(kChunkRows, M - c0);
    for (std::int64_t nb = 0; nb < B.n_blocks; nb += 2) {
      const bool two = nb + 1 < B.n_blocks;
      const std::int64_t j0 = nb * TN;
      const std::int64_t cols = std::min<std::int64_t>(two ? 2 * TN : TN, B.n - j0);
      for (std::int64_t r0 = c0; r0 < c0 + chunk; r0 += kRowBlock) {
        const std::int64_t rows = std::min<std::int64_t>(kRowBlock, M - r0);
        const std::uint16_t* a = A + r0 * lda;
        if (rows < kRowBlock) {  // zero-padded copy of the last rows
          a_tail.assign(static_cast<std::size_t>(kRowBlock * lda), 0);
          std::memcpy(a_tail.data(), a, static_cast<std::size_t>(rows * lda) * sizeof(std::uint16_t));
          a = a_tail.data();
        }
        for (std::int64_t i = 0; i < kRowBlock; ++i)
          for (std::int64_t j = 0; j < 32; ++j)
            out[i * 32 + j] = (accumulate && i < rows && j < cols) ? C[(r0 + i) * ldc + j0 + j] : 0.0f;
        block_32x32(a, lda, B, nb, two, out, accumulate);
        for (std::int64_t i = 0; i < rows; ++i) std::memcpy(C + (r0 + i) * ldc + j0, out + i * 32, static_cast<std::size_t>(cols) * 4);
      }
    }
  }
  _tile_release();
}

}  // namespace tribev2::features::video::detail
