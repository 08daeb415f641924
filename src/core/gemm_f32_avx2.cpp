// AVX2 + FMA float32 GEMM kernels: a 6 x 16 micro-kernel (12 accumulators). Packing is
// plain C++ (the compiler vectorises it for AVX2); the epilogue is the shared scalar one.
// Compiled with -mavx2 -mfma -mf16c; used only when cpu_features reports AVX2 and FMA.
#include <immintrin.h>

#include <algorithm>

#include "gemm_kernels.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2::detail {

namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;

void pack_a(const float* A, std::int64_t lda, std::int64_t rows, std::int64_t kc, float* Ap) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += kMR) {
    const int pr = static_cast<int>(std::min<std::int64_t>(kMR, rows - r0));
    for (int i = 0; i < pr; ++i) {
      const float* a = A + (r0 + i) * lda;
      for (std::int64_t k = 0; k < kc; ++k) Ap[k * pr + i] = a[k];
    }
    Ap += pr * kc;
  }
}

void pack_b(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp) {
  for (std::int64_t p = 0; p < nc; p += kNR) {
    const int w = static_cast<int>(std::min<std::int64_t>(kNR, nc - p));
    if (w < kNR)
      for (std::int64_t k = 0; k < kc; ++k)
        for (int j = w; j < kNR; ++j) Bp[k * kNR + j] = 0.0f;
    if (B.trans) {
      float row[512];
      for (int j = 0; j < w; ++j)
        for (std::int64_t k = 0; k < kc; k += 512) {
          const std::int64_t kw = std::min<std::int64_t>(512, kc - k);
          convert_to_f32(B.dtype, B.data, (n0 + p + j) * B.ld + k0 + k, kw, row);
          for (std::int64_t kk = 0; kk < kw; ++kk) Bp[(k + kk) * kNR + j] = row[kk];
        }
    } else {
      for (std::int64_t k = 0; k < kc; ++k) convert_to_f32(B.dtype, B.data, (k0 + k) * B.ld + n0 + p, w, Bp + k * kNR);
    }
    Bp += kc * kNR;
  }
}

template <int M>
void tile_t(int cols, std::int64_t kc, const float* __restrict Ap, const float* __restrict Bp, float* P,
            std::int64_t ldp, TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) {
  __m256 c0[M], c1[M];
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (std::int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      const __m256 a = _mm256_broadcast_ss(Ap + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    Ap += M;
    Bp += kNR;
  }
  if (mode == TileMode::First || mode == TileMode::Middle) {
    for (int i = 0; i < M; ++i) {
      float* p = P + i * ldp;
      if (mode == TileMode::Middle) {
        c0[i] = _mm256_add_ps(c0[i], _mm256_load_ps(p));
        c1[i] = _mm256_add_ps(c1[i], _mm256_load_ps(p + 8));
      }
      _mm256_store_ps(p, c0[i]);
      _mm256_store_ps(p + 8, c1[i]);
    }
    return;
  }
  alignas(32) float t[M * kNR];
  for (int i = 0; i < M; ++i) {
    if (mode == TileMode::LastWithP) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_load_ps(P + i * ldp));
      c1[i] = _mm256_add_ps(c1[i], _mm256_load_ps(P + i * ldp + 8));
    }
    _mm256_store_ps(t + i * kNR, c0[i]);
    _mm256_store_ps(t + i * kNR + 8, c1[i]);
  }
  apply_epilogue_scalar(t, kNR, M, cols, C, ldc, ep);
}

void tile(int rows, int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp,
          TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) {
  switch (rows) {
    case 1: tile_t<1>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 2: tile_t<2>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 3: tile_t<3>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 4: tile_t<4>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 5: tile_t<5>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    default: tile_t<6>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
  }
}

}  // namespace

F32Kernels f32_kernels_avx2() {
  F32Kernels k;
  k.mr = kMR;
  k.nr = kNR;
  k.pack_a = pack_a;
  k.pack_b = pack_b;
  k.tile = tile;
  return k;
}

}  // namespace tribev2::detail
