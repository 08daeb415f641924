// Internal interface between the GEMM driver (gemm.cpp: blocking, threading, dispatch) and the
// per-instruction-set kernel files (gemm_f32_*.cpp, gemm_bf16_*.cpp), each compiled with its
// own target flags. Not a public header.
//
// The float32 path is the classic BLIS structure: B (the weight) is packed block by block into
// panels of NR columns ([k][NR], converted to float32 on the way when stored as F16/BF16), A
// into panels of MR rows ([k][MR]); an MR x NR micro-kernel keeps its tile of C in registers
// over a block of K. Partial sums over K blocks live in a scratch buffer P, so C is written
// exactly once, through the epilogue (bias, GELU, residual, beta), which may therefore read
// the old C or a residual that aliases C.
#pragma once

#include <cstdint>

#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/dtype.hpp"
#include "tribev2/core/gemm.hpp"

namespace tribev2::detail {

// What happens to a finished tile v = A*B (+ partial sums) before it is stored in C:
//   out = act(v + bias) + beta * C_old + residual * residual_scale
// Pointers are already offset to the tile's first row/column.
struct TileEpilogue {
  const float* bias = nullptr;      // [cols]
  bool gelu = false;                // exact-erf GELU (vectorised; see simd_math)
  float beta = 0.0f;                // C_old is read only when beta != 0
  const float* residual = nullptr;  // [rows, ldr]; may alias C
  std::int64_t ldr = 0;
  const float* residual_scale = nullptr;  // [cols] or null for 1
};

enum class TileMode : int {
  First = 0,        // P = acc                (first of several K blocks)
  Middle = 1,       // P += acc
  LastWithP = 2,    // C = epilogue(acc + P)  (last of several K blocks)
  Only = 3,         // C = epilogue(acc)      (K in one block)
};

// A read-only operand B in its stored dtype: element (k, n) is at k*ld + n, or at n*ld + k
// when `trans` (the [N, K] layout of nn.Linear weights).
struct BSource {
  DType dtype = DType::F32;
  const void* data = nullptr;
  std::int64_t ld = 0;
  bool trans = false;
  // Already packed for these kernels (PackedF32): K block starting at pc, panel q at
  // packed + pc * packed_ld + q * kcb * NR, where kcb is that block's size and packed_ld the
  // padded column count. pack_b is then skipped.
  const float* packed = nullptr;
  std::int64_t packed_ld = 0;
};

struct F32Kernels {
  int mr = 0;
  int nr = 0;
  // Packs rows [0, rows) x columns [0, kc) of A (row stride lda) into consecutive panels of
  // mr rows, each laid out [kc][panel_rows]; the last panel has rows % mr rows (no padding).
  void (*pack_a)(const float* A, std::int64_t lda, std::int64_t rows, std::int64_t kc, float* Ap) = nullptr;
  // Packs B(k0..k0+kc, n0..n0+nc) into ceil(nc/nr) panels [kc][nr], float32, zero padded.
  void (*pack_b)(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp) = nullptr;
  // One tile: rows x nr_eff (rows <= mr, nr_eff <= nr) over kc. P (row stride ldp, full nr
  // columns) holds partial sums; C (row stride ldc) receives the epilogue's result.
  void (*tile)(int rows, int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp,
               TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) = nullptr;
};

// Kernel sets; the x86 ones exist only when the build compiled them (TRIBEV2_X86_KERNELS).
F32Kernels f32_kernels_generic();
F32Kernels f32_kernels_avx2();
F32Kernels f32_kernels_avx512();

// Single-threaded float32 GEMM on rows [m0, m1) and columns [n0, n1) of C (gemm.cpp).
// round_b: round the packed B to bfloat16 (emulating bf16 products on CPUs without them).
void gemm_f32_range(const F32Kernels& kr, const BSource& B, std::int64_t m0, std::int64_t m1, std::int64_t n0,
                    std::int64_t n1, std::int64_t K, const float* A, std::int64_t lda, float beta, float* C,
                    std::int64_t ldc, const GemmEpilogue& ep, bool round_b = false, const float* packed_a = nullptr);
// packed_a (optional): rows [m0, m1) of A already packed by pack_a_all.
// The K block size of the float32 driver.
std::int64_t f32_k_block(std::int64_t K);
// A [M, K] packed for every K block (block starting at pc at Ap + pc * M).
void pack_a_all(const F32Kernels& kr, const float* A, std::int64_t lda, std::int64_t M, std::int64_t K, float* Ap);

// The float32 kernels of the best level <= `level` that this build has.
const F32Kernels& f32_kernels_for(cpu::Level level);

// The scalar epilogue shared by the generic and AVX2 tiles: tile [rows, cols] (row stride ldt)
// -> C.
void apply_epilogue_scalar(const float* tile, std::int64_t ldt, int rows, int cols, float* C, std::int64_t ldc,
                           const TileEpilogue& ep);

// THE GELU of one value (erf_fit.hpp; the scalar epilogues); its twin is std::erf.
float gelu_erf_scalar(float x);

}  // namespace tribev2::detail
