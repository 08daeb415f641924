// AVX-512 float32 GEMM kernels: a 14 x 32 micro-kernel (28 accumulators, A broadcast from
// the packed panel, two B vectors per k), transposing packers that widen F16/BF16 weights on
// the fly, and the epilogue (bias, GELU, beta, residual) applied in registers.
// Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c; called only after
// the runtime check in cpu_features says the CPU has them.
#include <algorithm>
#include <cstring>

#include "gemm_kernels.hpp"
#include "simd_avx512.hpp"

namespace tribev2::detail {

namespace {

using namespace avx512;

constexpr int kMR = 14;
constexpr int kNR = 32;

// Rows [0, rows) x k [0, kc) of A into panels [kc][pr]; 16 k at a time through a transpose.
void pack_a(const float* A, std::int64_t lda, std::int64_t rows, std::int64_t kc, float* Ap) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += kMR) {
    const int pr = static_cast<int>(std::min<std::int64_t>(kMR, rows - r0));
    const __mmask16 store_m = tail_mask(pr);
    for (std::int64_t k = 0; k < kc; k += 16) {
      const std::int64_t kw = std::min<std::int64_t>(16, kc - k);
      const __mmask16 m = tail_mask(kw);
      __m512 v[16];
      for (int i = 0; i < 16; ++i)
        v[i] = i < pr ? _mm512_maskz_loadu_ps(m, A + (r0 + i) * lda + k) : _mm512_setzero_ps();
      transpose16(v);
      for (std::int64_t kk = 0; kk < kw; ++kk) _mm512_mask_storeu_ps(Ap + (k + kk) * pr, store_m, v[kk]);
    }
    Ap += pr * kc;
  }
}

template <class Load>
void pack_b_trans(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp,
                  std::size_t esize, Load load) {
  const char* base = static_cast<const char*>(B.data);
  for (std::int64_t p = 0; p < nc; p += kNR) {
    for (int half = 0; half < 2; ++half) {
      const std::int64_t c0 = p + half * 16;
      const std::int64_t cw = std::clamp<std::int64_t>(nc - c0, 0, 16);
      for (std::int64_t k = 0; k < kc; k += 16) {
        const std::int64_t kw = std::min<std::int64_t>(16, kc - k);
        const __mmask16 m = tail_mask(kw);
        __m512 v[16];
        for (int i = 0; i < 16; ++i)
          v[i] = i < cw ? load(base + (static_cast<std::size_t>((n0 + c0 + i) * B.ld + k0 + k)) * esize, m)
                        : _mm512_setzero_ps();
        transpose16(v);
        for (std::int64_t kk = 0; kk < kw; ++kk) _mm512_store_ps(Bp + (k + kk) * kNR + half * 16, v[kk]);
      }
    }
    Bp += kc * kNR;
  }
}

// Rows k of B are contiguous in n: walk them row by row (sequential reads the hardware
// prefetcher follows, even for very wide B such as the 20,484-column subject layer) and
// scatter each row's 32-column pieces into their panels.
template <class Load>
void pack_b_plain(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp,
                  std::size_t esize, Load load) {
  const char* base = static_cast<const char*>(B.data);
  for (std::int64_t k = 0; k < kc; ++k) {
    const char* row = base + static_cast<std::size_t>((k0 + k) * B.ld + n0) * esize;
    for (std::int64_t p = 0; p < nc; p += kNR) {
      const __mmask16 m0 = tail_mask(nc - p), m1 = tail_mask(nc - p - 16);
      float* dst = Bp + (p / kNR) * kc * kNR + k * kNR;
      _mm512_store_ps(dst, load(row + p * esize, m0));
      _mm512_store_ps(dst + 16, load(row + (p + 16) * esize, m1));
    }
  }
}

void pack_b(const BSource& B, std::int64_t k0, std::int64_t kc, std::int64_t n0, std::int64_t nc, float* Bp) {
  auto lf32 = [](const char* p, __mmask16 m) { return load_f32(reinterpret_cast<const float*>(p), m); };
  auto lbf16 = [](const char* p, __mmask16 m) { return load_bf16(reinterpret_cast<const std::uint16_t*>(p), m); };
  auto lf16 = [](const char* p, __mmask16 m) { return load_f16(reinterpret_cast<const std::uint16_t*>(p), m); };
  switch (B.dtype) {
    case DType::F32:
      return B.trans ? pack_b_trans(B, k0, kc, n0, nc, Bp, 4, lf32) : pack_b_plain(B, k0, kc, n0, nc, Bp, 4, lf32);
    case DType::BF16:
      return B.trans ? pack_b_trans(B, k0, kc, n0, nc, Bp, 2, lbf16) : pack_b_plain(B, k0, kc, n0, nc, Bp, 2, lbf16);
    default:  // F16 (the driver only sends float dtypes)
      return B.trans ? pack_b_trans(B, k0, kc, n0, nc, Bp, 2, lf16) : pack_b_plain(B, k0, kc, n0, nc, Bp, 2, lf16);
  }
}

template <int M>
void tile_t(int cols, std::int64_t kc, const float* __restrict Ap, const float* __restrict Bp, float* P,
            std::int64_t ldp, TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) {
  __m512 c0[M], c1[M];
#pragma GCC unroll 14
  for (int i = 0; i < M; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  auto step = [&]() __attribute__((always_inline)) {
    const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    Ap += M;
    Bp += kNR;
  };
  // Fully unrolled groups of 8 k steps (the loop overhead of a rolled loop costs ~8 %).
  std::int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) step();
  }
  for (; k < kc; ++k) step();
  if (mode == TileMode::First) {
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) {
      _mm512_store_ps(P + i * ldp, c0[i]);
      _mm512_store_ps(P + i * ldp + 16, c1[i]);
    }
    return;
  }
  if (mode == TileMode::Middle) {
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) {
      _mm512_store_ps(P + i * ldp, _mm512_add_ps(c0[i], _mm512_load_ps(P + i * ldp)));
      _mm512_store_ps(P + i * ldp + 16, _mm512_add_ps(c1[i], _mm512_load_ps(P + i * ldp + 16)));
    }
    return;
  }
  const __mmask16 m0 = tail_mask(cols), m1 = tail_mask(cols - 16);
  for (int i = 0; i < M; ++i) {
    __m512 v0 = c0[i], v1 = c1[i];
    if (mode == TileMode::LastWithP) {
      v0 = _mm512_add_ps(v0, _mm512_load_ps(P + i * ldp));
      v1 = _mm512_add_ps(v1, _mm512_load_ps(P + i * ldp + 16));
    }
    finish16(v0, i, 0, m0, C, ldc, ep);
    if (m1) finish16(v1, i, 16, m1, C, ldc, ep);
  }
}

template <int... Ms>
void tile_dispatch(int rows, int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp,
                   TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep,
                   std::integer_sequence<int, Ms...>) {
  using Fn = void (*)(int, std::int64_t, const float*, const float*, float*, std::int64_t, TileMode, float*,
                      std::int64_t, const TileEpilogue&);
  static constexpr Fn table[] = {&tile_t<Ms + 1>...};
  table[rows - 1](cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep);
}

void tile(int rows, int cols, std::int64_t kc, const float* Ap, const float* Bp, float* P, std::int64_t ldp,
          TileMode mode, float* C, std::int64_t ldc, const TileEpilogue& ep) {
  tile_dispatch(rows, cols, kc, Ap, Bp, P, ldp, mode, C, ldc, ep, std::make_integer_sequence<int, kMR>{});
}

}  // namespace

F32Kernels f32_kernels_avx512() {
  F32Kernels k;
  k.mr = kMR;
  k.nr = kNR;
  k.pack_a = pack_a;
  k.pack_b = pack_b;
  k.tile = tile;
  return k;
}

}  // namespace tribev2::detail
