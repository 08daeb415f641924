// bfloat16 GEMM driver (Precision::BF16): A converted once per call, B packed per call or
// once per model (PackedBf16), work split over the pool by panels of 32 columns. AMX or
// AVX512-BF16 kernels when the CPU has them, otherwise the float32 kernels on bf16-rounded
// operands (the same products; only the summation order differs).
#include "gemm_bf16.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "scratch.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2 {

namespace detail {

void pack_vnni_generic(const BSource& B, std::int64_t K, std::int64_t n0, std::int64_t nc, std::uint16_t* dst) {
  const std::int64_t Kp = vnni_k(K);
  const std::int64_t panels = (nc + kVnniCols - 1) / kVnniCols;
  std::memset(dst, 0, static_cast<std::size_t>(panels * Kp * kVnniCols) * sizeof(std::uint16_t));
  float v = 0.0f;
  for (std::int64_t p = 0; p < panels; ++p) {
    std::uint16_t* panel = dst + p * Kp * kVnniCols;
    const std::int64_t cw = std::min(kVnniCols, nc - p * kVnniCols);
    for (std::int64_t c = 0; c < cw; ++c) {
      const std::int64_t n = n0 + p * kVnniCols + c;
      for (std::int64_t k = 0; k < K; ++k) {
        convert_to_f32(B.dtype, B.data, B.trans ? n * B.ld + k : k * B.ld + n, 1, &v);
        panel[(k / 2) * 2 * kVnniCols + c * 2 + (k % 2)] = f32_to_bf16(v);
      }
    }
  }
}

void convert_a_bf16_generic(const float* A, std::int64_t lda, std::int64_t m0, std::int64_t m1, std::int64_t K,
                            std::uint16_t* dst) {
  const std::int64_t Kp = vnni_k(K);
  for (std::int64_t i = m0; i < m1; ++i) {
    std::uint16_t* d = dst + i * Kp;
    for (std::int64_t k = 0; k < K; ++k) d[k] = f32_to_bf16(A[i * lda + k]);
    for (std::int64_t k = K; k < Kp; ++k) d[k] = 0;
  }
}

void convert_a_pairs_generic(const float* A, std::int64_t lda, std::int64_t M, std::int64_t K, std::int64_t q0,
                             std::int64_t q1, std::uint32_t* dst) {
  const std::int64_t kpairs = vnni_k(K) / 2;
  for (std::int64_t q = q0; q < q1; ++q) {
    const std::int64_t r0 = q * kPairRows;
    const std::int64_t pr = std::min<std::int64_t>(kPairRows, M - r0);
    std::uint32_t* d = dst + r0 * kpairs;
    for (std::int64_t i = 0; i < pr; ++i) {
      const float* a = A + (r0 + i) * lda;
      for (std::int64_t kp = 0; kp < kpairs; ++kp) {
        const std::uint32_t lo = 2 * kp < K ? f32_to_bf16(a[2 * kp]) : 0;
        const std::uint32_t hi = 2 * kp + 1 < K ? f32_to_bf16(a[2 * kp + 1]) : 0;
        d[kp * pr + i] = lo | (hi << 16);
      }
    }
  }
}

namespace {
// A bf16 operand as VDPBF16PS reads it: subnormals are zero (DAZ).
inline float bf16_daz(std::uint32_t h) {
  return (h & 0x7f80u) == 0 ? 0.0f : bf16_to_f32(static_cast<std::uint16_t>(h));
}

// The portable tile; A element (row i, pair kp) at ap[i * row_stride + kp * pair_stride].
void bf16_tile_portable(int rows, const std::uint32_t* ap, std::int64_t row_stride, std::int64_t pair_stride,
                        const std::uint16_t* b, std::int64_t kpairs, const TileIo& io) {
  float c[kPairRows][kVnniCols];
  for (int i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < kVnniCols; ++j)
      c[i][j] = io.in ? io.in[i * io.ldi + j] : io.bias ? io.bias[j] : 0.0f;
  for (std::int64_t kp = 0; kp < kpairs; ++kp, b += 2 * kVnniCols) {
    for (int i = 0; i < rows; ++i) {
      const std::uint32_t a = ap[i * row_stride + kp * pair_stride];
      const float a0 = bf16_daz(a & 0xffffu), a1 = bf16_daz(a >> 16);
      for (std::int64_t j = 0; j < kVnniCols; ++j) {
        const float odd = a1 * bf16_daz(b[2 * j + 1]), even = a0 * bf16_daz(b[2 * j]);
        c[i][j] = (c[i][j] + odd) + even;
      }
    }
  }
  for (int i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < kVnniCols; ++j) io.out[i * io.ldo + j] = c[i][j];
}
}  // namespace

void bf16_tile_generic(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs,
                       const TileIo& io) {
  bf16_tile_portable(rows, ap, 1, rows, b, kpairs, io);
}

void bf16_tile_rowmajor_generic(int rows, const std::uint32_t* ap, const std::uint16_t* b, std::int64_t kpairs,
                                const TileIo& io) {
  bf16_tile_portable(rows, ap, kRowMajorPairs, 1, b, kpairs, io);
}

namespace {

bool has_bf16_kernels(cpu::Level level) {
#if defined(TRIBEV2_X86_KERNELS)
  return level >= cpu::Level::Avx512Bf16;
#else
  (void)level;
  return false;
#endif
}

void pack_vnni(cpu::Level level, const BSource& B, std::int64_t K, std::int64_t n0, std::int64_t nc,
               std::uint16_t* dst) {
#if defined(TRIBEV2_X86_KERNELS)
  if (level >= cpu::Level::Avx512) return pack_vnni_avx512(B, K, n0, nc, dst);
#endif
  (void)level;
  pack_vnni_generic(B, K, n0, nc, dst);
}

// A -> the kernel's operand in the calling thread's scratch, converted in parallel: bf16 rows
// [Mpad, Kp] (Mpad = M rounded up to 32, zero rows) for AMX, pair panels for AVX512-BF16.
const std::uint16_t* convert_a(const Context& ctx, cpu::Level level, const float* A, std::int64_t lda, std::int64_t M,
                               std::int64_t K) {
  const std::int64_t Kp = vnni_k(K), Mpad = (M + 31) / 32 * 32;
#if defined(TRIBEV2_X86_KERNELS)
  if (level < cpu::Level::Amx) {
    auto* pairs = thread_scratch().bf16_a.get_as<std::uint32_t>(static_cast<std::size_t>(M * Kp / 2));
    const std::int64_t panels = (M + kPairRows - 1) / kPairRows;
    const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(K * kPairRows, 1));
    ctx.pool().parallel_for(panels, [&](std::int64_t q0, std::int64_t q1) {
      convert_a_pairs_avx512(A, lda, M, K, q0, q1, pairs);
    }, grain);
    return reinterpret_cast<const std::uint16_t*>(pairs);
  }
#endif
  std::uint16_t* a = thread_scratch().bf16_a.get_as<std::uint16_t>(static_cast<std::size_t>(Mpad * Kp));
  std::memset(a + M * Kp, 0, static_cast<std::size_t>((Mpad - M) * Kp) * sizeof(std::uint16_t));
  const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(K, 1));
  ctx.pool().parallel_for(M, [&](std::int64_t r0, std::int64_t r1) {
#if defined(TRIBEV2_X86_KERNELS)
    if (level >= cpu::Level::Avx512) return convert_a_bf16_avx512(A, lda, r0, r1, K, a);
#endif
    (void)level;
    convert_a_bf16_generic(A, lda, r0, r1, K, a);
  }, grain);
  return a;
}

void run_panels(cpu::Level level, const Bf16Job& job, std::int64_t p0, std::int64_t p1) {
#if defined(TRIBEV2_X86_KERNELS)
  if (level >= cpu::Level::Amx) return bf16_amx_panels(job, p0, p1);
  return bf16_avx512_panels(job, p0, p1);
#else
  (void)level, (void)job, (void)p0, (void)p1;
  fail("bf16 kernels are not built for this CPU architecture");
#endif
}

// Splits panels [0, panels) over the pool.
template <class Fn>
void split_panels(const Context& ctx, std::int64_t panels, double flops, const Fn& fn) {
  const std::int64_t threads = std::min<std::int64_t>(ctx.threads(), panels);
  if (threads <= 1 || flops < 4.0e6) {
    fn(0, panels);
    return;
  }
  ctx.pool().parallel_for(threads, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t p0 = panels * t / threads, p1 = panels * (t + 1) / threads;
      if (p1 > p0) fn(p0, p1);
    }
  });
}

// Emulation: float32 kernels on A rounded to bf16 and B rounded to bf16.
void emulate(const Context& ctx, cpu::Level level, const BSource& B, std::int64_t M, std::int64_t N, std::int64_t K,
             const float* A, std::int64_t lda, float beta, float* C, std::int64_t ldc, const GemmEpilogue& ep,
             bool b_is_bf16_already) {
  std::vector<float> ar(static_cast<std::size_t>(M * K));
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t k = 0; k < K; ++k) ar[static_cast<std::size_t>(i * K + k)] = bf16_to_f32(f32_to_bf16(A[i * lda + k]));
  const F32Kernels& kr = f32_kernels_for(level);
  const std::int64_t panels = (N + kr.nr - 1) / kr.nr;
  split_panels(ctx, panels, 2.0 * static_cast<double>(M * N) * static_cast<double>(K),
               [&](std::int64_t p0, std::int64_t p1) {
                 gemm_f32_range(kr, B, 0, M, p0 * kr.nr, std::min(N, p1 * kr.nr), K, ar.data(), K, beta, C, ldc, ep,
                                !b_is_bf16_already);
               });
}

}  // namespace

void gemm_bf16(const Context& ctx, const BSource& B, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
               std::int64_t lda, float beta, float* C, std::int64_t ldc, const GemmEpilogue& ep, cpu::Level level) {
  if (!has_bf16_kernels(level)) {
    emulate(ctx, level, B, M, N, K, A, lda, beta, C, ldc, ep, B.dtype == DType::BF16);
    return;
  }
  const std::uint16_t* a = convert_a(ctx, level, A, lda, M, K);
  const std::int64_t panels = (N + kVnniCols - 1) / kVnniCols;
  // Panels are packed per thread in blocks that stay in L2 while every row block uses them.
  const std::int64_t block = std::max<std::int64_t>(1, (1 << 19) / (vnni_k(K) * kVnniCols * 2));
  split_panels(ctx, panels, 2.0 * static_cast<double>(M * N) * static_cast<double>(K),
               [&](std::int64_t p0, std::int64_t p1) {
                 std::uint16_t* buf = thread_scratch().bf16_b.get_as<std::uint16_t>(
                     static_cast<std::size_t>(block * vnni_panel_elems(K)));
                 for (std::int64_t b0 = p0; b0 < p1; b0 += block) {
                   const std::int64_t b1 = std::min(p1, b0 + block);
                   pack_vnni(level, B, K, b0 * kVnniCols, std::min(N, b1 * kVnniCols) - b0 * kVnniCols, buf);
                   Bf16Job job{a, M, K, N, buf, b0, beta, C, ldc, &ep};
                   run_panels(level, job, b0, b1);
                 }
               });
}

}  // namespace detail

PackedBf16 PackedBf16::pack(const Context& ctx, const MatView& B, bool trans_b) {
  TRIBEV2_CHECK(B.dtype == DType::F32 || B.dtype == DType::F16 || B.dtype == DType::BF16,
                "PackedBf16: operand must be F32, F16 or BF16, got ", dtype_name(B.dtype));
  PackedBf16 p;
  p.n_ = trans_b ? B.rows : B.cols;
  p.k_ = trans_b ? B.cols : B.rows;
  if (p.n_ <= 0 || p.k_ <= 0) {
    p.n_ = p.k_ = 0;
    return p;
  }
  const std::int64_t panels = (p.n_ + detail::kVnniCols - 1) / detail::kVnniCols;
  const std::int64_t Kp = detail::vnni_k(p.k_);
  p.data_ = Tensor::empty(DType::BF16, {panels, Kp / 2, detail::kVnniCols, 2});
  auto* dst = static_cast<std::uint16_t*>(p.data_.raw_mut());
  const detail::BSource src{B.dtype, B.data, B.ld, trans_b};
  const cpu::Level level = cpu::level();
  ctx.pool().parallel_for(panels, [&](std::int64_t q0, std::int64_t q1) {
    const std::int64_t n0 = q0 * detail::kVnniCols, n1 = std::min(p.n_, q1 * detail::kVnniCols);
    detail::pack_vnni(level, src, p.k_, n0, n1 - n0, dst + q0 * Kp * detail::kVnniCols);
  });
  return p;
}

void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedBf16& B, float* C,
                 std::int64_t ldc, const GemmEpilogue& ep) {
  gemm_packed(ctx, M, A, lda, B, C, ldc, ep, cpu::Level::Amx);
}

void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedBf16& B, float* C,
                 std::int64_t ldc, const GemmEpilogue& ep, cpu::Level level) {
  TRIBEV2_CHECK(!B.empty(), "gemm_packed: empty packed operand");
  if (M <= 0) return;
  level = std::min(level, cpu::level());
  const std::int64_t N = B.n(), K = B.k(), Kp = detail::vnni_k(K);
  if (!detail::has_bf16_kernels(level)) {
    // Unpack to a bf16 [N, K] matrix (exact) and emulate.
    std::vector<std::uint16_t> w(static_cast<std::size_t>(N * K));
    const std::uint16_t* pn = B.panels();
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t k = 0; k < K; ++k)
        w[static_cast<std::size_t>(n * K + k)] =
            pn[(n / detail::kVnniCols) * Kp * detail::kVnniCols + (k / 2) * 2 * detail::kVnniCols +
               (n % detail::kVnniCols) * 2 + (k % 2)];
    const detail::BSource src{DType::BF16, w.data(), K, true};
    detail::emulate(ctx, level, src, M, N, K, A, lda, 0.0f, C, ldc, ep, true);
    return;
  }
  const std::uint16_t* a = detail::convert_a(ctx, level, A, lda, M, K);
  const std::int64_t panels = (N + detail::kVnniCols - 1) / detail::kVnniCols;
  const detail::Bf16Job job{a, M, K, N, B.panels(), 0, 0.0f, C, ldc, &ep};
  detail::split_panels(ctx, panels, 2.0 * static_cast<double>(M * N) * static_cast<double>(K),
                       [&](std::int64_t p0, std::int64_t p1) { detail::run_panels(level, job, p0, p1); });
}

namespace reference {

void gemm_bf16(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep) {
  std::vector<float> ar(static_cast<std::size_t>(std::max<std::int64_t>(M * K, 1)));
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t k = 0; k < K; ++k) ar[static_cast<std::size_t>(i * K + k)] = bf16_to_f32(f32_to_bf16(A[i * lda + k]));
  const std::int64_t rows = trans_b ? N : K, cols = trans_b ? K : N;
  std::vector<std::uint16_t> br(static_cast<std::size_t>(std::max<std::int64_t>(rows * cols, 1)));
  float v = 0.0f;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      convert_to_f32(B.dtype, B.data, r * B.ld + c, 1, &v);
      br[static_cast<std::size_t>(r * cols + c)] = f32_to_bf16(v);
    }
  const MatView Bv{DType::BF16, br.data(), rows, cols, cols};
  gemm_ex(trans_b, M, N, K, ar.data(), K, Bv, C, ldc, ep);
}

}  // namespace reference

}  // namespace tribev2
