#include "bf16_gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tribev2/core/dtype.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2::features::video {

float round_bf16(float x) { return bf16_to_f32(f32_to_bf16(x)); }

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TRIBEV2_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TRIBEV2_CLONES
#endif

// f32_to_bf16 over n values, written so that it vectorises: round to nearest even, NaN kept
// quiet (tested equal to the scalar f32_to_bf16 in tests/video/test_video_kernels.cpp).
TRIBEV2_CLONES void f32_to_bf16_n(const float* src, std::uint16_t* dst, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, src + i, 4);
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const std::uint32_t nan = (u >> 16) | 0x40u;
    dst[i] = static_cast<std::uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
  }
}

namespace {

constexpr int TN = Bf16PackedB::kTileN;
constexpr int TK = Bf16PackedB::kTileK;

void shape_packed(Bf16PackedB& p, std::int64_t n, std::int64_t k) {
  TRIBEV2_CHECK(n >= 0 && k >= 0, "bf16 pack: negative size");
  p.n = n;
  p.k = k;
  p.n_blocks = (n + TN - 1) / TN;
  p.k_blocks = (k + TK - 1) / TK;
  p.tiles.assign(static_cast<std::size_t>(p.n_blocks * p.k_blocks * TN * TK), 0);
}

// Element (row j of B^T-form, i.e. column j of C; reduction index kk) -> position in the tiles.
inline std::size_t packed_index(const Bf16PackedB& p, std::int64_t j, std::int64_t kk) {
  const std::int64_t nb = j / TN, n = j % TN, kb = kk / TK, kin = kk % TK;
  return static_cast<std::size_t>((nb * p.k_blocks + kb) * (TN * TK) + (kin / 2) * (TN * 2) + n * 2 + (kin % 2));
}

}  // namespace

Bf16PackedB pack_bf16_nk(const MatView& B) {
  Bf16PackedB p;
  shape_packed(p, B.rows, B.cols);
  std::vector<float> row(static_cast<std::size_t>(std::max<std::int64_t>(B.cols, 1)));
  for (std::int64_t j = 0; j < B.rows; ++j) {
    convert_to_f32(B.dtype, B.data, j * B.ld, B.cols, row.data());
    for (std::int64_t kk = 0; kk < B.cols; ++kk) p.tiles[packed_index(p, j, kk)] = f32_to_bf16(row[static_cast<std::size_t>(kk)]);
  }
  return p;
}

void pack_bf16_nk_f32(const float* B, std::int64_t n, std::int64_t k, std::int64_t ld, Bf16PackedB& p) {
  if (p.n != n || p.k != k) shape_packed(p, n, k);
  // Tiles are written whole (padding included), so no clearing is needed when reused.
  for (std::int64_t nb = 0; nb < p.n_blocks; ++nb)
    for (std::int64_t kb = 0; kb < p.k_blocks; ++kb) {
      std::uint16_t* t = p.tiles.data() + (nb * p.k_blocks + kb) * (TN * TK);
      for (int kp = 0; kp < TK / 2; ++kp)
        for (int nn = 0; nn < TN; ++nn)
          for (int e = 0; e < 2; ++e) {
            const std::int64_t j = nb * TN + nn, kk = kb * TK + 2 * kp + e;
            t[kp * TN * 2 + nn * 2 + e] = (j < n && kk < k) ? f32_to_bf16(B[j * ld + kk]) : 0;
          }
    }
}

void pack_bf16_kn_into(const float* B, std::int64_t k, std::int64_t n, std::int64_t ld, Bf16PackedB& p) {
  if (p.n != n || p.k != k) shape_packed(p, n, k);
  for (std::int64_t nb = 0; nb < p.n_blocks; ++nb)
    for (std::int64_t kb = 0; kb < p.k_blocks; ++kb) {
      std::uint16_t* t = p.tiles.data() + (nb * p.k_blocks + kb) * (TN * TK);
      for (int kp = 0; kp < TK / 2; ++kp)
        for (int e = 0; e < 2; ++e) {
          const std::int64_t kk = kb * TK + 2 * kp + e;
          const float* src = kk < k ? B + kk * ld + nb * TN : nullptr;
          for (int nn = 0; nn < TN; ++nn) {
            const std::int64_t j = nb * TN + nn;
            t[kp * TN * 2 + nn * 2 + e] = (src && j < n) ? f32_to_bf16(src[nn]) : 0;
          }
        }
    }
}

Bf16PackedB pack_bf16_kn(const float* B, std::int64_t k, std::int64_t n, std::int64_t ld) {
  Bf16PackedB p;
  pack_bf16_kn_into(B, k, n, ld, p);
  return p;
}

namespace detail {

// Portable path for rows [0, M): A rounded to bf16 (as float), B widened per panel.
void gemm_bf16_portable_rows(std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C,
                             std::int64_t ldc, bool accumulate) {
  const std::int64_t K = B.k;
  std::vector<float> a(static_cast<std::size_t>(M * K));
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t kk = 0; kk < K; ++kk) a[static_cast<std::size_t>(i * K + kk)] = round_bf16(A[i * lda + kk]);
  // Widen B in panels of up to 256 columns: b[j][kk] row-major [cols, K].
  const std::int64_t panel = 256;
  std::vector<float> b(static_cast<std::size_t>(std::min<std::int64_t>(panel, B.n) * K));
  for (std::int64_t j0 = 0; j0 < B.n; j0 += panel) {
    const std::int64_t nj = std::min(panel, B.n - j0);
    for (std::int64_t j = 0; j < nj; ++j)
      for (std::int64_t kk = 0; kk < K; ++kk)
        b[static_cast<std::size_t>(j * K + kk)] = bf16_to_f32(B.tiles[packed_index(B, j0 + j, kk)]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(M), static_cast<blasint>(nj),
                static_cast<blasint>(K), 1.0f, a.data(), static_cast<blasint>(K), b.data(), static_cast<blasint>(K),
                accumulate ? 1.0f : 0.0f, C + j0, static_cast<blasint>(ldc));
  }
}

}  // namespace detail

bool bf16_amx_available() {
  static const bool ok = detail::amx_request_permission();  // a fact of the machine, set once
  return ok;
}

void gemm_bf16(const Context& ctx, std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C,
               std::int64_t ldc, bool accumulate) {
  if (M <= 0 || B.n <= 0) return;
  if (B.k == 0) {
    if (!accumulate)
      for (std::int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, B.n, 0.0f);
    return;
  }
  const bool amx = bf16_amx_available();
  // Row blocks: a multiple of 32 rows (the AMX kernel's 2 x 16) per task, at least 256 rows
  // (the kernel's chunk, over which a panel of B is reused) unless that leaves threads idle.
  const std::int64_t flops = M * B.n * B.k;
  const std::int64_t min_rows = M >= 256 * ctx.threads() ? 256 : 32;
  std::int64_t tasks = flops < (1 << 21) ? 1 : std::min<std::int64_t>(ctx.threads() * 2, (M + min_rows - 1) / min_rows);
  tasks = std::max<std::int64_t>(tasks, 1);
  const std::int64_t per = ((M + tasks - 1) / tasks + 31) / 32 * 32;
  const std::int64_t n_tasks = (M + per - 1) / per;
  auto run = [&](std::int64_t t0, std::int64_t t1) {
    std::vector<std::uint16_t> abf;
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t r0 = t * per, rows = std::min(per, M - r0);
      if (rows <= 0) continue;
      if (amx) {
        const std::int64_t kp = B.k_blocks * Bf16PackedB::kTileK;
        if (abf.size() != static_cast<std::size_t>(rows * kp) || kp != B.k) abf.assign(static_cast<std::size_t>(rows * kp), 0);
        for (std::int64_t i = 0; i < rows; ++i) f32_to_bf16_n(A + (r0 + i) * lda, abf.data() + i * kp, B.k);
        detail::gemm_bf16_amx_rows(rows, abf.data(), kp, B, C + r0 * ldc, ldc, accumulate);
      } else {
        detail::gemm_bf16_portable_rows(rows, A + r0 * lda, lda, B, C + r0 * ldc, ldc, accumulate);
      }
    }
  };
  if (n_tasks == 1) run(0, 1);
  else ctx.pool().parallel_for(n_tasks, run);
}

namespace reference {

void gemm_bf16(std::int64_t M, const float* A, std::int64_t lda, const Bf16PackedB& B, float* C, std::int64_t ldc,
               bool accumulate) {
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < B.n; ++j) {
      double acc = 0.0;
      for (std::int64_t kk = 0; kk < B.k; ++kk)
        acc += static_cast<double>(round_bf16(A[i * lda + kk])) *
               static_cast<double>(bf16_to_f32(B.tiles[packed_index(B, j, kk)]));
      float& c = C[i * ldc + j];
      c = accumulate ? c + static_cast<float>(acc) : static_cast<float>(acc);
    }
}

}  // namespace reference

}  // namespace tribev2::features::video

// ---- AMX permission (this file is compiled without AMX flags) ------------------------------

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tribev2::features::video::detail {

bool amx_request_permission() {
#if defined(__x86_64__) && defined(__linux__) && defined(TRIBEV2_HAVE_AMX_KERNEL)
  if (const char* env = std::getenv("TRIBEV2_NO_AMX"); env && *env && *env != '0') return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_bf16 = (edx >> 22) & 1u, amx_tile = (edx >> 24) & 1u;
  if (!amx_bf16 || !amx_tile) return false;
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

#if !defined(TRIBEV2_HAVE_AMX_KERNEL)
void gemm_bf16_amx_rows(std::int64_t, const std::uint16_t*, std::int64_t, const Bf16PackedB&, float*, std::int64_t,
                        bool) {
  fail("the AMX kernel is not compiled into this build");
}
#endif

}  // namespace tribev2::features::video::detail
