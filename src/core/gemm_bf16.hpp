// Internal: bfloat16 products (--precision bf16). B is held as "VNNI panels": 32 columns per
// panel, K padded to a multiple of 32, and each pair of consecutive k interleaved, i.e. panel
// element (k, c) at [(k / 2) * 64 + c * 2 + k % 2]. That is the operand layout of both AMX
// (TDPBF16PS B tiles: 16 rows of 16 column pairs, row stride 128 bytes) and AVX512-BF16
// (VDPBF16PS: one 64-byte vector of 16 column pairs). A is rounded to bfloat16 per call.
// Products are exact in float32 and accumulated in float32 (the hardware's definition); on
// CPUs without these instructions the same rounding is emulated with the float32 kernels.
#pragma once

#include <cstdint>

#include "gemm_kernels.hpp"
#include "tribev2/core/context.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/gemm.hpp"

namespace tribev2::detail {

constexpr std::int64_t kVnniCols = 32;
inline std::int64_t vnni_k(std::int64_t K) { return (K + 31) / 32 * 32; }
inline std::int64_t vnni_panel_elems(std::int64_t K) { return vnni_k(K) * kVnniCols; }

// Columns [n0, n0 + nc) of B (all K rows) into ceil(nc / 32) panels at dst, rounding to
// bfloat16 (nearest even). Portable version, and the AVX-512 one (same result).
void pack_vnni_generic(const BSource& B, std::int64_t K, std::int64_t n0, std::int64_t nc, std::uint16_t* dst);
void pack_vnni_avx512(const BSource& B, std::int64_t K, std::int64_t n0, std::int64_t nc, std::uint16_t* dst);

// A [M, K] (row stride lda) -> bfloat16 rows [M, Kp] (Kp = vnni_k(K), zero padded), rows
// [m0, m1) only. The AMX operand layout.
void convert_a_bf16_generic(const float* A, std::int64_t lda, std::int64_t m0, std::int64_t m1, std::int64_t K,
                            std::uint16_t* dst);
void convert_a_bf16_avx512(const float* A, std::int64_t lda, std::int64_t m0, std::int64_t m1, std::int64_t K,
                           std::uint16_t* dst);

// The AVX512-BF16 kernel's A operand: row panels of kPairRows rows, each [Kp / 2][rows] dwords
// (a dword = the k pair (2i, 2i + 1) of one row), panel q (rows q * kPairRows ...) at
// dst + q * kPairRows * Kp / 2; the last panel holds the M % kPairRows remaining rows. Converted
// once per call and shared by the threads. Panels [q0, q1) only.
constexpr std::int64_t kPairRows = 14;
void convert_a_pairs_avx512(const float* A, std::int64_t lda, std::int64_t M, std::int64_t K, std::int64_t q0,
                            std::int64_t q1, std::uint32_t* dst);

// The pair panels of convert_a_pairs_avx512 for CPUs without AVX-512 (the same bits).
void convert_a_pairs_generic(const float* A, std::int64_t lda, std::int64_t M, std::int64_t K, std::int64_t q0,
                             std::int64_t q1, std::uint32_t* dst);

// How a register tile of the AVX512-BF16 kernel starts and where it ends.
struct TileIo {
  const float* in = nullptr;  // start from in (row stride ldi): an earlier K chunk's sums
  std::int64_t ldi = 0;
  const float* bias = nullptr;  // else start from the bias (32 columns) when set, else from zero
  float* out = nullptr;         // rows of 32 floats (row stride ldo)
  std::int64_t ldo = 0;
};
// rows (1..kPairRows) x 32 tile over kpairs k pairs: out = start + A . B, A one pair panel of
// convert_a_pairs_* (rows dwords per pair), B 64 bf16 per pair (one VNNI panel, 64-byte
// aligned). The VDPBF16PS kernel, and its portable twin: per pair, the odd product then the
// even one added in float32 (VDPBF16PS's order), bf16 subnormals read as zero.
void bf16_tile_avx512(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs, const TileIo& io);
void bf16_tile_generic(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs, const TileIo& io);
// The same tile with A row-major: row i's pairs at ap + i * kRowMajorPairs (kpairs <= that).
constexpr std::int64_t kRowMajorPairs = 128;
void bf16_tile_rowmajor_avx512(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs,
                               const TileIo& io);
void bf16_tile_rowmajor_generic(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs,
                                const TileIo& io);

// C[m0..m1, panel columns] = epilogue(Abf * panels) for panels [p0, p1) of a B with N columns.
// Abf: [Mpad, Kp] bfloat16 rows where Mpad rounds M up to a multiple of 32 (zero rows).
struct Bf16Job {
  const std::uint16_t* a = nullptr;   // converted A: AMX rows, or AVX512-BF16 pair panels
  std::int64_t M = 0, K = 0, N = 0;
  const std::uint16_t* panels = nullptr;  // panel p at panels + (p - panel0) * vnni_panel_elems(K)
  std::int64_t panel0 = 0;
  float beta = 0.0f;
  float* C = nullptr;
  std::int64_t ldc = 0;
  const GemmEpilogue* ep = nullptr;
};
void bf16_amx_panels(const Bf16Job& job, std::int64_t p0, std::int64_t p1);
void bf16_avx512_panels(const Bf16Job& job, std::int64_t p0, std::int64_t p1);

// Whole bf16 GEMM with B packed per call (gemm/gemm_ex with Precision::BF16).
void gemm_bf16(const Context& ctx, const BSource& B, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
               std::int64_t lda, float beta, float* C, std::int64_t ldc, const GemmEpilogue& ep, cpu::Level level);

}  // namespace tribev2::detail
