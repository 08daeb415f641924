// GEMM driver: operand checks, the split of C over the thread pool, cache blocking and the
// choice of kernels (runtime CPU dispatch). The kernels themselves live in gemm_f32_*.cpp
// (float32) and gemm_bf16.cpp (bfloat16 products), each compiled for its instruction set.
#include "tribev2/core/gemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <vector>

#include "gemm_bf16.hpp"
#include "gemm_kernels.hpp"
#include "scratch.hpp"

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
  TRIBEV2_CHECK(B.dtype == DType::F32 || B.dtype == DType::F16 || B.dtype == DType::BF16,
                "gemm: operand B must be F32, F16 or BF16, got ", dtype_name(B.dtype));
}

}  // namespace

namespace detail {
const F32Kernels& f32_kernels_for(cpu::Level level) {
  static const detail::F32Kernels generic = detail::f32_kernels_generic();
#if defined(TRIBEV2_X86_KERNELS)
  static const detail::F32Kernels avx2 = detail::f32_kernels_avx2();
  static const detail::F32Kernels avx512 = detail::f32_kernels_avx512();
  if (level >= cpu::Level::Avx512) return avx512;
  if (level >= cpu::Level::Avx2) return avx2;
#else
  (void)level;
#endif
  return generic;
}
}  // namespace detail

namespace {

detail::TileEpilogue tile_epilogue(const GemmEpilogue& ep, float beta, std::int64_t i0, std::int64_t j0) {
  detail::TileEpilogue t;
  t.bias = ep.bias ? ep.bias + j0 : nullptr;
  t.gelu = ep.gelu;
  t.beta = beta;
  t.residual = ep.residual ? ep.residual + i0 * ep.ldr + j0 : nullptr;
  t.ldr = ep.ldr;
  t.residual_scale = ep.residual_scale ? ep.residual_scale + j0 : nullptr;
  return t;
}

}  // namespace

namespace {
// Largest A (floats) packed in one piece for a whole call (64 MB): w2v-BERT's products (2,999 x
// 4,096 per minute of audio) and V-JEPA2's (8,192 x 1,408) fit; above it A is packed again for
// every column block.
constexpr std::int64_t kPackAllMax = std::int64_t{16} << 20;
}  // namespace

std::int64_t detail::f32_k_block(std::int64_t K) {
  // B micro-panels (kc x NR floats) stay in L1: K split into equal blocks of whole 16-k steps.
  constexpr std::int64_t kc_max = 256;
  const std::int64_t nkb = (K + kc_max - 1) / kc_max;
  return std::max<std::int64_t>(1, std::min(K, ((K + nkb - 1) / nkb + 15) / 16 * 16));
}

// A rows [0, M) packed for every K block: block pb at pb * kc * M, panels of MR rows inside.
void detail::pack_a_all(const F32Kernels& kr, const float* A, std::int64_t lda, std::int64_t M, std::int64_t K,
                        float* Ap) {
  const std::int64_t kc = f32_k_block(K);
  for (std::int64_t pc = 0; pc < K; pc += kc) kr.pack_a(A + pc, lda, M, std::min(kc, K - pc), Ap + pc * M);
}

// Single-threaded float32 GEMM on rows [m0, m1) and columns [n0, n1) of C, BLIS loop order:
// jc (nc columns) -> pc (kc of K; pack B) -> ic (mc rows; pack A) -> jr (NR) -> ir (MR).
void detail::gemm_f32_range(const detail::F32Kernels& kr, const detail::BSource& B, std::int64_t m0, std::int64_t m1,
                            std::int64_t n0, std::int64_t n1, std::int64_t K, const float* A, std::int64_t lda,
                            float beta, float* C, std::int64_t ldc, const GemmEpilogue& ep, bool round_b,
                            const float* packed_a) {
  const std::int64_t MR = kr.mr, NR = kr.nr;
  const std::int64_t M = m1 - m0;
  // kc: B micro-panels (kc x NR floats) stay in L1 (K split into equal blocks of whole 16-k
  // steps); nc: the packed B block (kc x nc) stays in L2; mc: rows of A per block. Measured on
  // Sapphire Rapids (48 KB L1, 2 MB L2): kc 192..384 and nc 256..512 are within noise.
  constexpr std::int64_t nc_target = 512, mc_target = 336;
  const std::int64_t kc = detail::f32_k_block(K);
  const std::int64_t nkb = (K + kc - 1) / kc;
  // Column blocks of at most ~512 (B block kc x nc in L2), of equal size in whole panels.
  const std::int64_t panels = (n1 - n0 + NR - 1) / NR, per_max = std::max<std::int64_t>(1, nc_target / NR);
  const std::int64_t n_blocks = (panels + per_max - 1) / per_max;
  const std::int64_t nc_max = (panels + n_blocks - 1) / n_blocks * NR;
  const std::int64_t mc_max = std::max<std::int64_t>(MR, (mc_target / MR) * MR);
  const std::int64_t mc = std::min(M, mc_max);
  TRIBEV2_CHECK(!(B.packed && round_b), "gemm: a packed float32 operand cannot be rounded in place");
  TRIBEV2_CHECK(!B.packed || n0 % NR == 0, "gemm: packed operand split off a panel boundary");
  detail::Scratch& s = detail::thread_scratch();
  float* Bbuf = B.packed ? nullptr : s.b.get(static_cast<std::size_t>(kc * nc_max));
  // A is packed once for the whole call when it fits a reasonable scratch (it is re-read for
  // every column block; repacking it per block cost ~8 % of the forward), else per block.
  // packed_a: the caller already did that for these rows (shared by the threads of one GEMM).
  const bool pack_all = packed_a != nullptr || M * K <= kPackAllMax;
  float* Ap = packed_a ? nullptr : s.a.get(static_cast<std::size_t>(pack_all ? M * K : kc * (mc + MR)));
  if (pack_all && !packed_a) pack_a_all(kr, A + m0 * lda, lda, M, K, Ap);
  const float* Apk = packed_a ? packed_a : Ap;
  // Partial sums: rows padded by 16 floats so that successive rows do not map onto the same
  // L1 sets (a row stride of exactly 2 KB would).
  const std::int64_t ldp = nc_max + 16;
  float* P = nkb > 1 ? s.p.get(static_cast<std::size_t>(M * ldp)) : nullptr;
  for (std::int64_t jc = n0; jc < n1; jc += nc_max) {
    const std::int64_t nc = std::min(nc_max, n1 - jc);
    for (std::int64_t pb = 0; pb < nkb; ++pb) {
      const std::int64_t pc = pb * kc;
      const std::int64_t kcb = std::min(kc, K - pc);
      const detail::TileMode mode = nkb == 1         ? detail::TileMode::Only
                                    : pb == 0        ? detail::TileMode::First
                                    : pb == nkb - 1  ? detail::TileMode::LastWithP
                                                     : detail::TileMode::Middle;
      const float* Bp = Bbuf;
      if (B.packed) {
        Bp = B.packed + pc * B.packed_ld + (jc / NR) * kcb * NR;
      } else {
        kr.pack_b(B, pc, kcb, jc, nc, Bbuf);
        if (round_b) {
          const std::int64_t n = kcb * ((nc + NR - 1) / NR) * NR;
          for (std::int64_t e = 0; e < n; ++e) Bbuf[e] = bf16_to_f32(f32_to_bf16(Bbuf[e]));
        }
      }
      for (std::int64_t ic = m0; ic < m1; ic += mc) {
        const std::int64_t mcb = std::min(mc, m1 - ic);
        const float* Ab = Apk + pc * M + (ic - m0) * kcb;
        if (!pack_all) {
          kr.pack_a(A + ic * lda + pc, lda, mcb, kcb, Ap);
          Ab = Ap;
        }
        for (std::int64_t jr = 0; jr < nc; jr += NR) {
          const int cols = static_cast<int>(std::min(NR, nc - jr));
          for (std::int64_t ir = 0; ir < mcb; ir += MR) {
            const int rows = static_cast<int>(std::min(MR, mcb - ir));
            const std::int64_t i = ic + ir, j = jc + jr;
            kr.tile(rows, cols, kcb, Ab + ir * kcb, Bp + jr * kcb, P ? P + (i - m0) * ldp + jr : nullptr, ldp, mode,
                    C + i * ldc + j, ldc, tile_epilogue(ep, beta, i, j));
          }
        }
      }
    }
  }
}

namespace {

// Splits C over the pool. By columns when there are enough panels: A is packed once (both
// threads help) and shared, and the columns are cut into ~3 tasks per thread taken in turn,
// so a thread slowed down (by other processes, or memory) does less of the work. Else by rows.
void gemm_f32_parallel(const Context& ctx, const detail::F32Kernels& kr, const detail::BSource& B, std::int64_t M,
                       std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, float beta, float* C,
                       std::int64_t ldc, const GemmEpilogue& ep, bool round_b) {
  const std::int64_t threads = ctx.threads(), MR = kr.mr, NR = kr.nr;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const std::int64_t panels = (N + NR - 1) / NR;
  if (threads <= 1 || flops < 4.0e6) {
    detail::gemm_f32_range(kr, B, 0, M, 0, N, K, A, lda, beta, C, ldc, ep, round_b);
    return;
  }
  if (panels >= threads) {
    const float* shared = nullptr;
    if (M * K <= kPackAllMax) {
      float* Ap = detail::thread_scratch().shared_a.get(static_cast<std::size_t>(M * K));
      const std::int64_t kc = detail::f32_k_block(K), nkb = (K + kc - 1) / kc;
      ctx.pool().parallel_for(nkb, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b)
          kr.pack_a(A + b * kc, lda, M, std::min(kc, K - b * kc), Ap + b * kc * M);
      });
      shared = Ap;
    }
    const std::int64_t tasks = panels >= threads * 6 ? threads * 3 : threads;
    ctx.pool().parallel_for(tasks, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t) {
        const std::int64_t p0 = panels * t / tasks, p1 = panels * (t + 1) / tasks;
        if (p1 > p0)
          detail::gemm_f32_range(kr, B, 0, M, p0 * NR, std::min(N, p1 * NR), K, A, lda, beta, C, ldc, ep, round_b,
                                 shared);
      }
    });
    return;
  }
  const std::int64_t blocks = (M + MR - 1) / MR;
  const std::int64_t tasks = std::min(threads, blocks);
  ctx.pool().parallel_for(tasks, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t b0 = blocks * t / tasks, b1 = blocks * (t + 1) / tasks;
      if (b1 > b0) detail::gemm_f32_range(kr, B, b0 * MR, std::min(M, b1 * MR), 0, N, K, A, lda, beta, C, ldc, ep, round_b);
    }
  });
}

void gemm_impl(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
               std::int64_t lda, const MatView& B, float beta, float* C, std::int64_t ldc, const GemmEpilogue& ep,
               cpu::Level level) {
  if (M <= 0 || N <= 0) return;
  check_operands(trans_b, N, K, B);
  level = std::min(level, cpu::level());
  const detail::BSource src{B.dtype, B.data, B.ld, trans_b};
  if (K <= 0) {  // empty sum: the epilogue of zeros
    const detail::TileEpilogue t = tile_epilogue(ep, beta, 0, 0);
    std::vector<float> zeros(static_cast<std::size_t>(N), 0.0f);
    for (std::int64_t i = 0; i < M; ++i) {
      detail::TileEpilogue ti = t;
      if (ti.residual) ti.residual += i * ep.ldr;
      detail::apply_epilogue_scalar(zeros.data(), 0, 1, static_cast<int>(N), C + i * ldc, ldc, ti);
    }
    return;
  }
  if (ctx.precision() == Precision::BF16) {
    detail::gemm_bf16(ctx, src, M, N, K, A, lda, beta, C, ldc, ep, level);
    return;
  }
  gemm_f32_parallel(ctx, detail::f32_kernels_for(level), src, M, N, K, A, lda, beta, C, ldc, ep, false);
}

}  // namespace

void gemm(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
          const float* A, std::int64_t lda, const MatView& B, float beta, float* C,
          std::int64_t ldc) {
  gemm_impl(ctx, trans_b, M, N, K, A, lda, B, beta, C, ldc, GemmEpilogue{}, cpu::Level::Amx);
}

void gemm_ex(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
             std::int64_t lda, const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep) {
  gemm_impl(ctx, trans_b, M, N, K, A, lda, B, 0.0f, C, ldc, ep, cpu::Level::Amx);
}

void gemm_ex(const Context& ctx, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
             std::int64_t lda, const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep,
             cpu::Level level) {
  gemm_impl(ctx, trans_b, M, N, K, A, lda, B, 0.0f, C, ldc, ep, level);
}

PackedF32 PackedF32::pack(const Context& ctx, const MatView& B, bool trans_b) {
  return pack(ctx, B, trans_b, cpu::level());
}

PackedF32 PackedF32::pack(const Context& ctx, const MatView& B, bool trans_b, cpu::Level level) {
  PackedF32 p;
  p.n_ = trans_b ? B.rows : B.cols;
  p.k_ = trans_b ? B.cols : B.rows;
  check_operands(trans_b, p.n_, p.k_, B);
  p.level_ = std::min(level, cpu::level());
  const detail::F32Kernels& kr = detail::f32_kernels_for(p.level_);
  if (p.n_ <= 0 || p.k_ <= 0) {
    p.n_ = p.k_ = 0;
    return p;
  }
  p.nr_ = kr.nr;
  const std::int64_t panels = (p.n_ + kr.nr - 1) / kr.nr;
  p.ld_ = panels * kr.nr;
  p.data_ = Tensor::empty(DType::F32, {p.k_, p.ld_});
  float* dst = p.data_.data<float>();
  const detail::BSource src{B.dtype, B.data, B.ld, trans_b};
  const std::int64_t kc = detail::f32_k_block(p.k_);
  // Exactly what gemm_f32_range's pack_b produces per (K block, column block), laid out so that
  // any column block starting on a panel boundary is a contiguous run of panels.
  ctx.pool().parallel_for(panels, [&](std::int64_t q0, std::int64_t q1) {
    const std::int64_t n0 = q0 * kr.nr, n1 = std::min(p.n_, q1 * kr.nr);
    for (std::int64_t pc = 0; pc < p.k_; pc += kc) {
      const std::int64_t kcb = std::min(kc, p.k_ - pc);
      kr.pack_b(src, pc, kcb, n0, n1 - n0, dst + pc * p.ld_ + q0 * kcb * kr.nr);
    }
  }, std::max<std::int64_t>(1, 4096 / kr.nr));
  return p;
}

void gemm_packed(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const PackedF32& B, float* C,
                 std::int64_t ldc, const GemmEpilogue& ep) {
  TRIBEV2_CHECK(!B.empty(), "gemm_packed: empty packed operand");
  TRIBEV2_CHECK(ctx.precision() == Precision::F32, "gemm_packed: a float32 packing is for float32 compute");
  if (M <= 0) return;
  const detail::F32Kernels& kr = detail::f32_kernels_for(B.level());
  TRIBEV2_CHECK(kr.nr == B.nr(), "gemm_packed: packed for ", B.nr(), "-column panels, kernels use ", kr.nr);
  detail::BSource src{DType::F32, nullptr, 0, true};
  src.packed = B.data();
  src.packed_ld = B.ld();
  gemm_f32_parallel(ctx, kr, src, M, B.n(), B.k(), A, lda, 0.0f, C, ldc, ep, false);
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

void gemm_ex(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
             const MatView& B, float* C, std::int64_t ldc, const GemmEpilogue& ep) {
  if (M <= 0 || N <= 0) return;
  std::vector<float> prod(static_cast<std::size_t>(M * N));
  gemm(trans_b, M, N, K, A, lda, B, 0.0f, prod.data(), N);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      float v = prod[static_cast<std::size_t>(i * N + j)];
      if (ep.bias) v += ep.bias[j];
      if (ep.gelu) v = 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752440f));  // std::erf twin
      if (ep.residual) {
        const float r = ep.residual[i * ep.ldr + j];
        v += ep.residual_scale ? r * ep.residual_scale[j] : r;
      }
      C[i * ldc + j] = v;
    }
}

}  // namespace reference

}  // namespace tribev2
