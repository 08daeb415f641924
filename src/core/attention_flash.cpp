#include "attention_flash.hpp"

#include <algorithm>
#include <limits>

#include "kernels_simd.hpp"
#include "scratch.hpp"

namespace tribev2::detail {

namespace {

using Tile = void (*)(int, const std::uint32_t*, const std::uint16_t*, std::int64_t, const TileIo&);
struct FlashKernels {
  void (*convert)(const float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::uint32_t*);
  Tile tile;           // A as pair panels (Q)
  Tile tile_rows;      // A row-major, kRowMajorPairs per row (P)
  void (*softmax)(const float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, float, float*, float*, float*,
                  std::uint16_t*, std::int64_t);
};

FlashKernels kernels_for(bool fast) {
#if defined(TRIBEV2_X86_KERNELS)
  if (fast) return {&convert_a_pairs_avx512, &bf16_tile_avx512, &bf16_tile_rowmajor_avx512, &online_softmax_avx512};
#endif
  (void)fast;
  return {&convert_a_pairs_generic, &bf16_tile_generic, &bf16_tile_rowmajor_generic, &online_softmax_portable};
}

static_assert(kFlashKeys == 2 * kRowMajorPairs, "the weights' rows are the row-major tile's rows");

}  // namespace

void flash_bf16_rows(bool fast, const FlashHead& h, const float* q, std::int64_t ldq, std::int64_t nq, float* out,
                     std::int64_t ldo) {
  const FlashKernels kr = kernels_for(fast);
  const std::int64_t dh = h.head_dim, qpairs = vnni_k(dh) / 2;
  const std::int64_t k_stride = vnni_panel_elems(dh), v_stride = vnni_panel_elems(h.tk);
  const std::int64_t v_panels = (dh + kVnniCols - 1) / kVnniCols, ldo_acc = v_panels * kVnniCols;
  const std::int64_t tiles = (nq + kPairRows - 1) / kPairRows;
  // One scratch block: Q pairs, scores, the bf16 weights P (row-major), the float32 O, m, l, alpha.
  const std::size_t floats = static_cast<std::size_t>(kFlashRows * (qpairs + kFlashKeys + kFlashKeys / 2 + ldo_acc + 3));
  float* base = thread_scratch().flash.get(floats);
  auto* qa = reinterpret_cast<std::uint32_t*>(base);
  float* s = base + kFlashRows * qpairs;
  auto* pw = reinterpret_cast<std::uint16_t*>(s + kFlashRows * kFlashKeys);
  const auto* pa = reinterpret_cast<const std::uint32_t*>(pw);
  float* o = s + kFlashRows * (kFlashKeys + kFlashKeys / 2);
  float* m = o + kFlashRows * ldo_acc;
  float* l = m + kFlashRows;
  float* alpha = l + kFlashRows;
  std::fill_n(m, nq, -std::numeric_limits<float>::infinity());
  std::fill_n(l, nq, 0.0f);
  kr.convert(q, ldq, nq, dh, 0, tiles, qa);
  for (std::int64_t k0 = 0; k0 < h.tk; k0 += kFlashKeys) {
    const std::int64_t kn = std::min(kFlashKeys, h.tk - k0);
    const std::int64_t panels = (kn + kVnniCols - 1) / kVnniCols, width = panels * kVnniCols;
    // S [nq, width] = Q K^T for keys [k0, k0 + width) (keys past tk are zero columns).
    for (std::int64_t p = 0; p < panels; ++p) {
      const std::uint16_t* kb = h.k + (k0 / kVnniCols + p) * k_stride;
      for (std::int64_t t = 0; t < tiles; ++t) {
        TileIo io;
        io.out = s + t * kPairRows * kFlashKeys + p * kVnniCols;
        io.ldo = kFlashKeys;
        kr.tile(static_cast<int>(std::min(kPairRows, nq - t * kPairRows)), qa + t * kPairRows * qpairs, kb, qpairs, io);
      }
    }
    kr.softmax(s, nq, kn, width, kFlashKeys, h.scale, m, l, alpha, pw, kFlashKeys);
    // O = O * alpha + P V over the block's keys (the first block starts from zero).
    if (k0 > 0)
      for (std::int64_t i = 0; i < nq; ++i)
        if (alpha[i] != 1.0f)  // the row's maximum moved (ever rarer as keys go by)
          for (std::int64_t c = 0; c < ldo_acc; ++c) o[i * ldo_acc + c] *= alpha[i];
    const std::int64_t ppairs = width / 2;
    for (std::int64_t vp = 0; vp < v_panels; ++vp) {
      const std::uint16_t* vb = h.v + vp * v_stride + k0 * kVnniCols;  // rows k0.. of the panel: (k0 / 2) pairs of 64
      for (std::int64_t t = 0; t < tiles; ++t) {
        TileIo io;
        io.out = o + t * kPairRows * ldo_acc + vp * kVnniCols;
        io.ldo = ldo_acc;
        io.in = k0 > 0 ? io.out : nullptr;
        io.ldi = ldo_acc;
        kr.tile_rows(static_cast<int>(std::min(kPairRows, nq - t * kPairRows)), pa + t * kPairRows * kRowMajorPairs, vb,
                     ppairs, io);
      }
    }
  }
  for (std::int64_t i = 0; i < nq; ++i) {
    const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
    for (std::int64_t c = 0; c < dh; ++c) out[i * ldo + c] = o[i * ldo_acc + c] * inv;
  }
}

}  // namespace tribev2::detail
