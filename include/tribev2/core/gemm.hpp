// Matrix products. Activations are float32; the second operand (usually a weight) may be
// stored as F32, F16 or BF16 (for example straight from a memory-mapped file) and is widened
// exactly to float32 block by block, so results are those of float32 arithmetic.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2 {

// A read-only 2-D matrix [rows, cols] with leading dimension `ld` (elements), any float dtype.
struct MatView {
  DType dtype = DType::F32;
  const void* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t ld = 0;
};

// The last dimension is `cols`, all leading dimensions are folded into `rows`.
MatView mat_view(const Tensor& t);
// Rows [row0, row0 + n) of a matrix.
MatView mat_rows(const MatView& m, std::int64_t row0, std::int64_t n);

// C[M,N] = A[M,K] * op(B) + beta * C, with op(B) = B^T when B is stored [N, K] (trans_b) and
// B when stored [K, N]. A and C are float32 row-major with leading dimensions lda and ldc.
void gemm(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
          const float* A, std::int64_t lda, const MatView& B, float beta, float* C,
          std::int64_t ldc);

// What happens to every result before it is stored, fused into the GEMM's last pass over C
// (so C is written once and nothing is re-read from memory):
//   C = act(A*op(B) + bias) + residual * residual_scale
struct GemmEpilogue {
  const float* bias = nullptr;            // [N] or null
  bool gelu = false;                      // exact-erf GELU (PyTorch's approximate='none')
  const float* residual = nullptr;        // [M, ldr] or null; may be C itself (x = f(x) + x*s)
  std::int64_t ldr = 0;
  const float* residual_scale = nullptr;  // [N] or null for 1
};

// gemm() with an epilogue instead of beta. Same operands and dtypes as gemm(). With
// ctx.precision() == BF16 the products are taken in bfloat16 (A and B rounded to nearest even,
// float32 accumulation) on CPUs with AVX512-BF16/AMX, emulated exactly elsewhere.
void gemm_ex(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
             const float* A, std::int64_t lda, const MatView& B, float* C, std::int64_t ldc,
             const GemmEpilogue& ep);
// The same with the kernels of at most `level` (tests and benchmarks compare the levels).
void gemm_ex(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
             const float* A, std::int64_t lda, const MatView& B, float* C, std::int64_t ldc,
             const GemmEpilogue& ep, cpu::Level level);

// A weight rounded once to bfloat16 and laid out for the bf16 kernels (K pairs interleaved in
// panels of 32 columns: the AMX / AVX512-BF16 operand layout), for Precision::BF16. Packing
// once per model instead of per call removes the conversion from every forward and halves the
// weight memory traffic; the source (e.g. a memory-mapped F32 file) is no longer needed after.
class PackedBf16 {
 public:
  PackedBf16() = default;
  // B as gemm() takes it: [N, K] when trans_b (an nn.Linear weight), else [K, N].
  static PackedBf16 pack(const Context& ctx, const MatView& B, bool trans_b);
  bool empty() const { return n_ == 0; }
  std::int64_t n() const { return n_; }
  std::int64_t k() const { return k_; }
  std::size_t bytes() const { return data_.nbytes(); }
  const std::uint16_t* panels() const { return static_cast<const std::uint16_t*>(data_.raw()); }

 private:
  Tensor data_;  // BF16, [ceil(N / 32), Kp / 2, 32, 2]
  std::int64_t n_ = 0, k_ = 0;
};

// C[M, N] = epilogue(bf16(A) * B) with a packed B (always bfloat16 products, whatever the
// context's precision: the packing already chose).
void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedBf16& B,
                 float* C, std::int64_t ldc, const GemmEpilogue& ep);
void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedBf16& B,
                 float* C, std::int64_t ldc, const GemmEpilogue& ep, cpu::Level level);

// A float32 weight packed once into the panels the float32 kernels read (what gemm() packs
// on every call otherwise): a forward then streams each weight once, sequentially, with no
// repacking. Same numbers as gemm() bit for bit (same kernels, same blocking, same order).
// Costs a float32 copy of the weight; the model keeps it instead of a memory-mapped F32
// source, whose pages it gives back.
class PackedF32 {
 public:
  PackedF32() = default;
  // B as gemm() takes it: [N, K] when trans_b (an nn.Linear weight), else [K, N]; any dtype
  // gemm() reads. For the kernels of `level` (default: the best this CPU has).
  static PackedF32 pack(const Context& ctx, const MatView& B, bool trans_b);
  static PackedF32 pack(const Context& ctx, const MatView& B, bool trans_b, cpu::Level level);
  bool empty() const { return n_ == 0; }
  std::int64_t n() const { return n_; }
  std::int64_t k() const { return k_; }
  std::int64_t nr() const { return nr_; }
  std::int64_t ld() const { return ld_; }
  cpu::Level level() const { return level_; }
  std::size_t bytes() const { return data_.nbytes(); }
  const float* data() const { return data_.data<float>(); }

 private:
  Tensor data_;  // F32 [K, ld]: per K block, panels of nr columns
  std::int64_t n_ = 0, k_ = 0, nr_ = 0, ld_ = 0;
  cpu::Level level_ = cpu::Level::Generic;
};

// C[M, N] = epilogue(A * B) with a packed float32 B; ctx's precision must be F32.
void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedF32& B,
                 float* C, std::int64_t ldc, const GemmEpilogue& ep);

namespace reference {
// Naive triple loop with a float accumulator in k order: the twin that gemm() is tested against.
void gemm(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
          std::int64_t lda, const MatView& B, float beta, float* C, std::int64_t ldc);
// bf16 products: A and B rounded to bfloat16 (nearest even), then reference::gemm_ex.
void gemm_bf16(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
               std::int64_t lda, const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep);
// gemm_ex's twin: reference::gemm, then the epilogue element by element (std::erf GELU).
void gemm_ex(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
             std::int64_t lda, const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep);
}  // namespace reference

}  // namespace tribev2
