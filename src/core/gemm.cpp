#include "tribev2/core/gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <vector>

namespace tribev2 {

MatView mat_view(const Tensor& t) {
  TRIBEV2_CHECK(t.ndim() >= 1, "mat_view: scalar tensor");
  MatView m;
  m.dtype = t.dtype();
  TRIBEV2_CHECK(dtype_is_float(m.dtype) && m.dtype != DType::F64,
                "matrix operand must be F32, F16 or BF16, got ", dtype_name(m.dtype));
  m.data = t.raw();
  m.cols = t.dim(-1);
  m.rows = m.cols ? t.numel() / m.cols : 0;
  m.ld = m.cols;
  return m;
}

MatView mat_rows(const MatView& m, std::int64_t row0, std::int64_t n) {
  TRIBEV2_CHECK(row0 >= 0 && n >= 0 && row0 + n <= m.rows, "mat_rows: rows [", row0, ", ",
                row0 + n, ") out of range for ", m.rows, " rows");
  MatView r = m;
  r.data = static_cast<const char*>(m.data) + static_cast<std::size_t>(row0 * m.ld) * dtype_size(m.dtype);
  r.rows = n;
  return r;
}

namespace {

void check_operands(bool trans_b, std::int64_t N, std::int64_t K, const MatView& B) {
  const std::int64_t need_rows = trans_b ? N : K;
  const std::int64_t need_cols = trans_b ? K : N;
  TRIBEV2_CHECK(B.rows >= need_rows && B.cols >= need_cols && B.ld >= B.cols,
                "gemm: operand B is [", B.rows, ", ", B.cols, "], needs at least [", need_rows,
                ", ", need_cols, "]");
}

// One tile of columns [n0, n0 + nn) of C, on the calling thread.
void gemm_tile(bool trans_b, std::int64_t M, std::int64_t n0, std::int64_t nn, std::int64_t K,
               const float* A, std::int64_t lda, const MatView& B, float beta, float* C,
               std::int64_t ldc) {
  const char* base = static_cast<const char*>(B.data);
  if (B.dtype == DType::F32) {
    const float* b = reinterpret_cast<const float*>(base) + (trans_b ? n0 * B.ld : n0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(M), static_cast<blasint>(nn), static_cast<blasint>(K), 1.0f,
                A, static_cast<blasint>(lda), b, static_cast<blasint>(B.ld), beta, C + n0,
                static_cast<blasint>(ldc));
    return;
  }
  // Half-precision operand: widen (exactly) a block of it to float32, then multiply.
  const std::int64_t block = std::max<std::int64_t>(16, std::min<std::int64_t>(nn, (1 << 18) / std::max<std::int64_t>(K, 1) / 16 * 16));
  std::vector<float> tmp(static_cast<std::size_t>(block * K));
  for (std::int64_t j = 0; j < nn; j += block) {
    const std::int64_t nb = std::min(block, nn - j);
    if (trans_b) {  // rows n0+j .. of B [N, K]
      for (std::int64_t r = 0; r < nb; ++r)
        convert_to_f32(B.dtype, base, (n0 + j + r) * B.ld, K, tmp.data() + r * K);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(M),
                  static_cast<blasint>(nb), static_cast<blasint>(K), 1.0f, A,
                  static_cast<blasint>(lda), tmp.data(), static_cast<blasint>(K), beta,
                  C + n0 + j, static_cast<blasint>(ldc));
    } else {  // columns n0+j .. of B [K, N]
      for (std::int64_t k = 0; k < K; ++k)
        convert_to_f32(B.dtype, base, k * B.ld + n0 + j, nb, tmp.data() + k * nb);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(M),
                  static_cast<blasint>(nb), static_cast<blasint>(K), 1.0f, A,
                  static_cast<blasint>(lda), tmp.data(), static_cast<blasint>(nb), beta,
                  C + n0 + j, static_cast<blasint>(ldc));
    }
  }
}

}  // namespace

void gemm(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
          const float* A, std::int64_t lda, const MatView& B, float beta, float* C,
          std::int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  check_operands(trans_b, N, K, B);
  if (K <= 0) {
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  // Split the columns over the pool: each tile is a single-threaded BLAS call. Tiles are
  // multiples of 64 columns so the BLAS micro-kernels stay on full panels.
  const std::int64_t threads = ctx.threads();
  const std::int64_t flops = M * N * K;
  std::int64_t tiles = std::min<std::int64_t>(threads, (N + 63) / 64);
  if (flops < (1 << 20)) tiles = 1;  // tiny products: threading costs more than it saves
  if (tiles <= 1) {
    gemm_tile(trans_b, M, 0, N, K, A, lda, B, beta, C, ldc);
    return;
  }
  const std::int64_t per = ((N + tiles - 1) / tiles + 63) / 64 * 64;
  ctx.pool().parallel_for(tiles, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t n0 = t * per;
      const std::int64_t nn = std::min(per, N - n0);
      if (nn > 0) gemm_tile(trans_b, M, n0, nn, K, A, lda, B, beta, C, ldc);
    }
  });
}

void linear(const Context& ctx, const float* x, std::int64_t M, std::int64_t K, const MatView& W,
            const float* bias, float* y, std::int64_t ldy) {
  TRIBEV2_CHECK(W.cols == K, "linear: weight has ", W.cols, " input features, input has ", K);
  const std::int64_t N = W.rows;
  gemm(ctx, true, M, N, K, x, K, W, 0.0f, y, ldy);
  if (bias) {
    for (std::int64_t i = 0; i < M; ++i) {
      float* row = y + i * ldy;
      for (std::int64_t j = 0; j < N; ++j) row[j] += bias[j];
    }
  }
}

namespace reference {

void gemm(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
          std::int64_t lda, const MatView& B, float beta, float* C, std::int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  check_operands(trans_b, N, K, B);
  std::vector<float> brow(static_cast<std::size_t>(std::max<std::int64_t>(K, 1)));
  for (std::int64_t j = 0; j < N; ++j) {
    for (std::int64_t k = 0; k < K; ++k) {
      const std::int64_t off = trans_b ? j * B.ld + k : k * B.ld + j;
      convert_to_f32(B.dtype, B.data, off, 1, &brow[static_cast<std::size_t>(k)]);
    }
    for (std::int64_t i = 0; i < M; ++i) {
      float acc = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) acc += A[i * lda + k] * brow[static_cast<std::size_t>(k)];
      float& c = C[i * ldc + j];
      c = beta == 0.0f ? acc : acc + beta * c;
    }
  }
}

}  // namespace reference

}  // namespace tribev2
