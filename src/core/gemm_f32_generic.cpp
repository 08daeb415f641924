// Portable float32 GEMM kernels (no intrinsics): the fallback for CPUs without AVX2, and the
// shape every faster kernel copies. The compiler vectorises the inner loops for its baseline.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "erf_fit.hpp"
#include "gemm_kernels.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2::detail {

float gelu_erf_scalar(float x) { return gelu_erf_fit(x); }

void apply_epilogue_scalar(const float* tile, std::int64_t ldt, int rows, int cols, float* C, std::int64_t ldc,
                           const TileEpilogue& ep) {
  for (int i = 0; i < rows; ++i) {
    const float* t = tile + i * ldt;
    float* c = C + i * ldc;
    const float* r = ep.residual ? ep.residual + i * ep.ldr : nullptr;
    for (int j = 0; j < cols; ++j) {
      float v = t[j];
      if (ep.bias) v += ep.bias[j];
      if (ep.gelu) v = gelu_erf_scalar(v);
      if (ep.beta != 0.0f) v += ep.beta * c[j];
      if (r) v += ep.residual_scale ? r[j] * ep.residual_scale[j] : r[j];
      c[j] = v;
    }
  }
}

namespace {

constexpr int kMR = 4;
constexpr int kNR = 16;

void pack_a(const float* A, std::int64_t lda, std::int64_t rows, std::int64_t kc, float* Ap) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += kMR) {
    const int pr = static_cast<int>(std::min<std::int64_t>(kMR, rows - r0));
    for (std::int64_t k = 0; k < kc; ++k)
      for (int i = 0; i < pr; ++i) Ap[k * pr + i] = A[(r0 + i) * lda + k];
    Ap += pr * kc;
  }
}

void pack_b(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp) {
  for (std::int64_t p = 0; p < nc; p += kNR) {
    const int w = static_cast<int>(std::min<std::int64_t>(kNR, nc - p));
    for (std::int64_t k = 0; k < kc; ++k) {
      float* dst = Bp + k * kNR;
      for (int j = 0; j < w; ++j) {
        const std::int64_t off = B.trans ? (n0 + p + j) * B.ld + (k0 + k) : (k0 + k) * B.ld + (n0 + p + j);
        convert_to_f32(B.dtype, B.data, off, 1, dst + j);
      }
      for (int j = w; j < kNR; ++j) dst[j] = 0.0f;
    }
    Bp += kc * kNR;
  }
}

template <int M>
void tile_t(int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp, TileMode mode,
            float* C, std::int64_t ldc, const TileEpilogue& ep) {
  float acc[M][kNR] = {};
  for (std::int64_t k = 0; k < kc; ++k) {
    const float* b = Bp + k * kNR;
    for (int i = 0; i < M; ++i) {
      const float a = Ap[k * M + i];
      for (int j = 0; j < kNR; ++j) acc[i][j] += a * b[j];
    }
  }
  if (mode == TileMode::First || mode == TileMode::Middle) {
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < kNR; ++j) P[i * ldp + j] = (mode == TileMode::First ? 0.0f : P[i * ldp + j]) + acc[i][j];
    return;
  }
  if (mode == TileMode::LastWithP)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += P[i * ldp + j];
  apply_epilogue_scalar(&acc[0][0], kNR, M, cols, C, ldc, ep);
}

void tile(int rows, int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp,
          TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) {
  switch (rows) {
    case 1: tile_t<1>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 2: tile_t<2>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    case 3: tile_t<3>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
    default: tile_t<4>(cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep); break;
  }
}

}  // namespace

F32Kernels f32_kernels_generic() {
  F32Kernels k;
  k.mr = kMR;
  k.nr = kNR;
  k.pack_a = pack_a;
  k.pack_b = pack_b;
  k.tile = tile;
  return k;
}

}  // namespace tribev2::detail
