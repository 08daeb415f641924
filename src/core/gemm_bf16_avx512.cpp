// bfloat16 kernels for x86: AVX-512 packing/conversion (vcvtne2ps2bf16), the AMX tile kernel
// (TDPBF16PS, 32 x 32 blocks of C in four tiles) and the AVX512-BF16 kernel (VDPBF16PS,
// 14 x 32 register tile). Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma
// -mf16c -mavx512bf16 -mamx-tile -mamx-bf16; each entry point is called only when
// cpu_features reports the instructions it uses (and, for AMX, the OS permission).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm_bf16.hpp"
#include "scratch.hpp"
#include "simd_avx512.hpp"

namespace tribev2::detail {

namespace {

using namespace avx512;

// 16 floats of a row stored as F32 / F16 / BF16 at element offset `off`, masked.
inline __m512 load_any(const BSource& B, std::int64_t off, __mmask16 m) {
  switch (B.dtype) {
    case DType::F32: return load_f32(static_cast<const float*>(B.data) + off, m);
    case DType::BF16: return load_bf16(static_cast<const std::uint16_t*>(B.data) + off, m);
    default: return load_f16(static_cast<const std::uint16_t*>(B.data) + off, m);
  }
}

// 32 floats (two vectors) -> 32 bf16 in order, as 16 dwords (k pairs).
inline __m512 to_bf16_pairs(__m512 lo, __m512 hi) {
  const __m512bh h = _mm512_cvtne2ps_pbh(hi, lo);
  __m512 r;
  std::memcpy(&r, &h, sizeof r);
  return r;
}
inline __m512bh as_bh(__m512i v) {
  __m512bh r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}

constexpr int kMR = 14;  // AVX512-BF16 register tile rows

}  // namespace

void pack_vnni_avx512(const BSource& B, std::int64_t K, std::int64_t n0, std::int64_t nc, std::uint16_t* dst) {
  const std::int64_t Kp = vnni_k(K);
  const std::int64_t panels = (nc + kVnniCols - 1) / kVnniCols;
  for (std::int64_t p = 0; p < panels; ++p) {
    std::uint16_t* panel = dst + p * Kp * kVnniCols;
    if (B.trans) {  // rows n of B hold K contiguous values: 16 x 16 dword transposes
      for (int half = 0; half < 2; ++half) {
        const std::int64_t c0 = p * kVnniCols + half * 16;
        const std::int64_t cw = std::clamp<std::int64_t>(nc - c0, 0, 16);
        for (std::int64_t k = 0; k < Kp; k += 32) {
          const __mmask16 m0 = tail_mask(K - k), m1 = tail_mask(K - k - 16);
          __m512 v[16];
          for (int i = 0; i < 16; ++i) {
            if (i < cw) {
              const std::int64_t row = (n0 + c0 + i) * B.ld;
              v[i] = to_bf16_pairs(load_any(B, row + k, m0), m1 ? load_any(B, row + k + 16, m1) : _mm512_setzero_ps());
            } else {
              v[i] = _mm512_setzero_ps();
            }
          }
          transpose16(v);
          for (int j = 0; j < 16; ++j)
            _mm512_storeu_ps(reinterpret_cast<float*>(panel + (k / 2 + j) * 2 * kVnniCols + half * 32), v[j]);
        }
      }
    } else {  // rows k of B hold N contiguous values: interleave rows 2kp and 2kp+1
      const std::int64_t c0 = n0 + p * kVnniCols;
      const __mmask16 m0 = tail_mask(nc - p * kVnniCols), m1 = tail_mask(nc - p * kVnniCols - 16);
      const __m512i idx_lo = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
      const __m512i idx_hi = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
      for (std::int64_t kp = 0; kp < Kp / 2; ++kp) {
        const std::int64_t k0 = 2 * kp, k1 = 2 * kp + 1;
        const __m512 r0 = k0 < K ? to_bf16_pairs(load_any(B, k0 * B.ld + c0, m0), load_any(B, k0 * B.ld + c0 + 16, m1))
                                 : _mm512_setzero_ps();
        const __m512 r1 = k1 < K ? to_bf16_pairs(load_any(B, k1 * B.ld + c0, m0), load_any(B, k1 * B.ld + c0 + 16, m1))
                                 : _mm512_setzero_ps();
        const __m512i a = _mm512_castps_si512(r0), b = _mm512_castps_si512(r1);
        const __m512i lo = _mm512_unpacklo_epi16(a, b), hi = _mm512_unpackhi_epi16(a, b);
        std::uint16_t* out = panel + kp * 2 * kVnniCols;
        _mm512_storeu_si512(out, _mm512_permutex2var_epi64(lo, idx_lo, hi));
        _mm512_storeu_si512(out + 32, _mm512_permutex2var_epi64(lo, idx_hi, hi));
      }
    }
  }
}

void convert_a_bf16_avx512(const float* A, std::int64_t lda, std::int64_t m0, std::int64_t m1, std::int64_t K,
                           std::uint16_t* dst) {
  const std::int64_t Kp = vnni_k(K);
  for (std::int64_t i = m0; i < m1; ++i) {
    const float* a = A + i * lda;
    std::uint16_t* d = dst + i * Kp;
    for (std::int64_t k = 0; k < Kp; k += 32) {
      const __m512 lo = _mm512_maskz_loadu_ps(tail_mask(K - k), a + k);
      const __m512 hi = _mm512_maskz_loadu_ps(tail_mask(K - k - 16), a + k + 16);
      _mm512_storeu_ps(reinterpret_cast<float*>(d + k), to_bf16_pairs(lo, hi));
    }
  }
}

namespace {

struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// Writes a finished block buf[rows][32] (row stride ldb) of C at (i0, j0) through the epilogue.
void finish_block(const Bf16Job& job, const float* buf, std::int64_t i0, std::int64_t j0, std::int64_t rows,
                  std::int64_t ldb = 32) {
  const GemmEpilogue& ep = *job.ep;
  TileEpilogue t;
  t.bias = ep.bias ? ep.bias + j0 : nullptr;
  t.gelu = ep.gelu;
  t.beta = job.beta;
  t.residual = ep.residual ? ep.residual + i0 * ep.ldr + j0 : nullptr;
  t.ldr = ep.ldr;
  t.residual_scale = ep.residual_scale ? ep.residual_scale + j0 : nullptr;
  const std::int64_t cols = std::min<std::int64_t>(32, job.N - j0);
  const __mmask16 m0 = tail_mask(cols), m1 = tail_mask(cols - 16);
  float* C = job.C + i0 * job.ldc + j0;
  for (std::int64_t i = 0; i < rows; ++i) {
    finish16(_mm512_load_ps(buf + i * ldb), i, 0, m0, C, job.ldc, t);
    if (m1) finish16(_mm512_load_ps(buf + i * ldb + 16), i, 16, m1, C, job.ldc, t);
  }
}

}  // namespace

void bf16_amx_panels(const Bf16Job& job, std::int64_t p0, std::int64_t p1) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  const std::int64_t Kp = vnni_k(job.K), steps = Kp / 32, lda = Kp * 2;
  const std::int64_t panel_elems = vnni_panel_elems(job.K);
  // Panels per pass: their share of B (Kp x 32 bf16 each) stays in L2 for every row block.
  const std::int64_t pb = std::max<std::int64_t>(1, (1 << 20) / (panel_elems * 2));
  alignas(64) float buf[32 * 32];
  for (std::int64_t jb = p0; jb < p1; jb += pb) {
    const std::int64_t je = std::min(p1, jb + pb);
    for (std::int64_t ir = 0; ir < job.M; ir += 32) {
      const std::int64_t rows = std::min<std::int64_t>(32, job.M - ir);
      const std::uint16_t* a0 = job.a + ir * Kp;
      const std::uint16_t* a1 = a0 + 16 * Kp;
      for (std::int64_t p = jb; p < je; ++p) {
        const std::uint16_t* b = job.panels + (p - job.panel0) * panel_elems;
        _tile_zero(0);
        _tile_zero(1);
        if (rows > 16) {
          _tile_zero(2);
          _tile_zero(3);
          for (std::int64_t s = 0; s < steps; ++s) {
            _tile_loadd(4, a0 + s * 32, lda);
            _tile_loadd(6, b + s * 16 * 64, 128);
            _tile_loadd(7, b + s * 16 * 64 + 32, 128);
            _tile_loadd(5, a1 + s * 32, lda);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
          }
          _tile_stored(2, buf + 16 * 32, 128);
          _tile_stored(3, buf + 16 * 32 + 16, 128);
        } else {
          for (std::int64_t s = 0; s < steps; ++s) {
            _tile_loadd(4, a0 + s * 32, lda);
            _tile_loadd(6, b + s * 16 * 64, 128);
            _tile_loadd(7, b + s * 16 * 64 + 32, 128);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
          }
        }
        _tile_stored(0, buf, 128);
        _tile_stored(1, buf + 16, 128);
        finish_block(job, buf, ir, p * kVnniCols, rows);
      }
    }
  }
  _tile_release();
}

namespace {

// rows x 32 register tile over kpairs k pairs: out = start + A(pairs) . B(panel). A is a pair
// panel (Lda = 0: the M rows of a pair together) or row-major with Lda pairs per row (the
// fused attention's weights, written row by row; the 14 rows' lines stay in L1).
template <int M, int Lda = 0>
void bf16_tile(const std::uint32_t* __restrict ap, const std::uint16_t* __restrict b, std::int64_t kpairs,
               const TileIo& io) {
  __m512 c0[M], c1[M];
  const __m512 b0i = io.bias ? _mm512_loadu_ps(io.bias) : _mm512_setzero_ps();
  const __m512 b1i = io.bias ? _mm512_loadu_ps(io.bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 14
  for (int i = 0; i < M; ++i) {
    c0[i] = io.in ? _mm512_loadu_ps(io.in + i * io.ldi) : b0i;
    c1[i] = io.in ? _mm512_loadu_ps(io.in + i * io.ldi + 16) : b1i;
  }
#pragma GCC unroll 2
  for (std::int64_t kp = 0; kp < kpairs; ++kp) {
    const __m512bh b0 = as_bh(_mm512_load_si512(b));
    const __m512bh b1 = as_bh(_mm512_load_si512(b + 32));
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) {
      const __m512bh a = as_bh(_mm512_set1_epi32(static_cast<int>(ap[Lda ? i * Lda : i])));
      c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
    }
    ap += Lda ? 1 : M;
    b += 64;
  }
#pragma GCC unroll 14
  for (int i = 0; i < M; ++i) {
    _mm512_storeu_ps(io.out + i * io.ldo, c0[i]);
    _mm512_storeu_ps(io.out + i * io.ldo + 16, c1[i]);
  }
}

template <int Lda, int... Ms>
void bf16_tile_rows(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs, const TileIo& io,
                    std::integer_sequence<int, Ms...>) {
  using Fn = void (*)(const std::uint32_t*, const std::uint16_t*, std::int64_t, const TileIo&);
  static constexpr Fn table[] = {&bf16_tile<Ms + 1, Lda>...};
  table[rows - 1](ap, b, kpairs, io);
}

// Cache blocking of the AVX512-BF16 path (the GotoBLAS loop order, sized for a 1-2 MB L2):
// a K chunk of kKcPairs pairs keeps a panel's B chunk (16 KB) in L1 while kMc rows of A
// (kMc x 256 bf16, 168 KB) sit in L2 (A is converted once per call into pair panels that all
// threads share); the float32 accumulator of kMc rows x kNcPanels panels
// (336 KB) stays in L2 across the K chunks. Without it every 32-column panel streamed all of A
// from memory (a product with M x K = 2048 x 4096 ran at ~60 % of the same kernel on L2 data).
constexpr std::int64_t kKcPairs = 128;
constexpr std::int64_t kMc = kMR * 24;
constexpr std::int64_t kNcPanels = 8;

}  // namespace

void convert_a_pairs_avx512(const float* A, std::int64_t lda, std::int64_t M, std::int64_t K, std::int64_t q0,
                            std::int64_t q1, std::uint32_t* dst) {
  const std::int64_t Kp = vnni_k(K), kpairs = Kp / 2;
  for (std::int64_t q = q0; q < q1; ++q) {
    const std::int64_t r0 = q * kPairRows;
    const int pr = static_cast<int>(std::min<std::int64_t>(kPairRows, M - r0));
    std::uint32_t* d = dst + r0 * kpairs;
    for (std::int64_t k = 0; k < Kp; k += 32) {
      // 16 rows x 16 k pairs (32 floats -> 32 bf16 per row), transposed to [pair][row].
      __m512 v[16];
      for (int i = 0; i < 16; ++i) {
        if (i < pr) {
          const float* a = A + (r0 + i) * lda + k;
          v[i] = to_bf16_pairs(_mm512_maskz_loadu_ps(tail_mask(K - k), a), _mm512_maskz_loadu_ps(tail_mask(K - k - 16), a + 16));
        } else {
          v[i] = _mm512_setzero_ps();
        }
      }
      transpose16(v);
      for (int j = 0; j < 16; ++j)
        _mm512_mask_storeu_ps(reinterpret_cast<float*>(d + (k / 2 + j) * pr), tail_mask(pr), v[j]);
    }
  }
}

void bf16_avx512_panels(const Bf16Job& job, std::int64_t p0, std::int64_t p1) {
  static_assert(kMR == kPairRows);
  const std::int64_t Kp = vnni_k(job.K), kpairs = Kp / 2;
  const std::int64_t panel_elems = vnni_panel_elems(job.K);
  const auto* ap = reinterpret_cast<const std::uint32_t*>(job.a);  // pair panels (convert_a_pairs_avx512)
  constexpr std::int64_t ldacc = kNcPanels * kVnniCols;
  float* acc = thread_scratch().bf16_acc.get(static_cast<std::size_t>(kMc * ldacc));
  // Products whose epilogue is at most a bias (attention's scores and values, most linear
  // layers) end in C directly: the bias starts the first K chunk and the last chunk's tile is
  // stored where it belongs, so a full panel skips the accumulator's last round trip and the
  // epilogue pass (11 % of V-JEPA2's bf16 attention cycles when K is one chunk of 64).
  const GemmEpilogue& ep = *job.ep;
  const bool direct = !ep.gelu && !ep.residual && job.beta == 0.0f;
  for (std::int64_t ic = 0; ic < job.M; ic += kMc) {
    const std::int64_t mc = std::min(kMc, job.M - ic);
    for (std::int64_t jc = p0; jc < p1; jc += kNcPanels) {
      const std::int64_t je = std::min(p1, jc + kNcPanels);
      for (std::int64_t kc = 0; kc < kpairs; kc += kKcPairs) {
        const std::int64_t kn = std::min(kKcPairs, kpairs - kc);
        const bool last = kc + kn == kpairs;
        for (std::int64_t p = jc; p < je; ++p) {
          const std::uint16_t* b = job.panels + (p - job.panel0) * panel_elems + kc * 2 * kVnniCols;
          const bool full = (p + 1) * kVnniCols <= job.N;
          for (std::int64_t r = 0; r < mc; r += kMR) {
            const int pr = static_cast<int>(std::min<std::int64_t>(kMR, mc - r));
            float* a_block = acc + r * ldacc + (p - jc) * kVnniCols;
            TileIo io;
            io.in = kc > 0 ? a_block : nullptr;
            io.ldi = ldacc;
            io.bias = direct && full && kc == 0 && ep.bias ? ep.bias + p * kVnniCols : nullptr;
            io.out = a_block;
            io.ldo = ldacc;
            if (direct && full && last) {
              io.out = job.C + (ic + r) * job.ldc + p * kVnniCols;
              io.ldo = job.ldc;
            }
            bf16_tile_rows<0>(pr, ap + (ic + r) * kpairs + kc * pr, b, kn, io, std::make_integer_sequence<int, kMR>{});
          }
        }
      }
      for (std::int64_t p = jc; p < je; ++p)
        if (!(direct && (p + 1) * kVnniCols <= job.N))
          finish_block(job, acc + (p - jc) * kVnniCols, ic, p * kVnniCols, mc, ldacc);
    }
  }
}

void bf16_tile_avx512(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs, const TileIo& io) {
  bf16_tile_rows<0>(rows, ap, b, kpairs, io, std::make_integer_sequence<int, kMR>{});
}

void bf16_tile_rowmajor_avx512(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs,
                               const TileIo& io) {
  bf16_tile_rows<static_cast<int>(kRowMajorPairs)>(rows, ap, b, kpairs, io, std::make_integer_sequence<int, kMR>{});
}

}  // namespace tribev2::detail
