// Matrix products. Activations are float32; the second operand (usually a weight) may be
// stored as F32, F16 or BF16 (for example straight from a memory-mapped file) and is widened
// exactly to float32 block by block, so results are those of float32 arithmetic.
#pragma once

#include <cstdint>

#include "tribev2/core/context.hpp"
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

// nn.Linear: y[M, N] = x[M, K] * W^T + bias, W stored [N, K]; bias may be null (F32 span of N).
void linear(const Context& ctx, const float* x, std::int64_t M, std::int64_t K, const MatView& W,
            const float* bias, float* y, std::int64_t ldy);

namespace reference {
// Naive triple loop with a float accumulator in k order: the twin that gemm() is tested against.
void gemm(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
          std::int64_t lda, const MatView& B, float beta, float* C, std::int64_t ldc);
}  // namespace reference

}  // namespace tribev2
