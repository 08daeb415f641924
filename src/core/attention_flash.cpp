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
  Tile tile;       // A as pair panels (Q)
  Tile tile_rows;  // A row-major, kRowMajorPairs per row (P)
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
                     std::int64_t ldo, const ScoreBias::KeyBlockAdder* bias) {
  const FlashKernels kr = kernels_for(fast);
  const std::int64_t dh = h.head_dim, qpairs = vnni_k(dh) / 2;
  const std::int64_t k_stride = vnni_panel_elems(dh), v_stride = vnni_panel_elems(h.tk);
  const std::int64_t v_panels = (dh + kVnniCols - 1) / kVnniCols, ldo_acc = v_panels * kVnniCols;
  const std::int64_t tiles = (nq + kPairRows - 1) / kPairRows;
  // One scratch block: Q pairs, scores, the bf16 weights P (row-major), the float32 O, m, l, alpha.
  const std::size_t floats =
      static_cast<std::size_t>(kFlashRows * (qpairs + kFlashKeys + kFlashKeys / 2 + ldo_acc + 3));
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
    if (bias) (*bias)(k0, kn, s, kFlashKeys);
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

std::int64_t flash_f32_block_floats(const F32Kernels& kr, int head_dim) {
  const std::int64_t dh_pad = (head_dim + kr.nr - 1) / kr.nr * kr.nr;
  return kFlashKeys * std::max<std::int64_t>(head_dim, dh_pad);  // K: dh x 256 keys; V: 256 keys x dh_pad
}

void pack_flash_f32(const F32Kernels& kr, const float* k, std::int64_t ldk, const float* v, std::int64_t ldv,
                    std::int64_t tk, int head_dim, float* kbuf, float* vbuf) {
  const std::int64_t stride = flash_f32_block_floats(kr, head_dim);
  const BSource kt{DType::F32, k, ldk, true};   // S = Q K^T: B[d, key] = K[key, d]
  const BSource vs{DType::F32, v, ldv, false};  // O = P V: B[key, d] = V[key, d]
  for (std::int64_t k0 = 0, b = 0; k0 < tk; k0 += kFlashKeys, ++b) {
    const std::int64_t kn = std::min(kFlashKeys, tk - k0);
    kr.pack_b(kt, 0, head_dim, k0, kn, kbuf + b * stride);  // panels of nr keys, [head_dim][nr]
    kr.pack_b(vs, k0, kn, 0, head_dim, vbuf + b * stride);  // panels of nr columns, [kn][nr]
  }
}

void flash_f32_rows(const F32Kernels& kr, bool fast_softmax, const FlashF32Head& h, const float* q, std::int64_t ldq,
                    std::int64_t nq, float* out, std::int64_t ldo, const ScoreBias::KeyBlockAdder* bias) {
  auto softmax = &online_softmax_f32_portable;
#if defined(TRIBEV2_X86_KERNELS)
  if (fast_softmax) softmax = &online_softmax_f32_avx512;
#endif
  const std::int64_t dh = h.head_dim, mr = kr.mr, nr = kr.nr;
  const std::int64_t v_panels = (dh + nr - 1) / nr, ldo_acc = v_panels * nr;
  const std::int64_t stride = flash_f32_block_floats(kr, h.head_dim);
  // One scratch block: packed Q, the scores/weights, the weights packed, O, m, l, alpha.
  const std::size_t floats = static_cast<std::size_t>(kFlashRows * (dh + 2 * kFlashKeys + ldo_acc + 3));
  float* qp = thread_scratch().flash.get(floats);
  float* s = qp + kFlashRows * dh;
  float* pp = s + kFlashRows * kFlashKeys;
  float* o = pp + kFlashRows * kFlashKeys;
  float* m = o + kFlashRows * ldo_acc;
  float* l = m + kFlashRows;
  float* alpha = l + kFlashRows;
  std::fill_n(m, nq, -std::numeric_limits<float>::infinity());
  std::fill_n(l, nq, 0.0f);
  kr.pack_a(q, ldq, nq, dh, qp);  // panels of mr rows, [dh][rows]
  const TileEpilogue store;
  TileEpilogue accumulate;
  accumulate.beta = 1.0f;
  for (std::int64_t k0 = 0, b = 0; k0 < h.tk; k0 += kFlashKeys, ++b) {
    const std::int64_t kn = std::min(kFlashKeys, h.tk - k0);
    const float* kb = h.k + b * stride;
    const float* vb = h.v + b * stride;
    // S [nq, kn] = Q K^T.
    for (std::int64_t p = 0; p * nr < kn; ++p)
      for (std::int64_t r0 = 0; r0 < nq; r0 += mr)
        kr.tile(static_cast<int>(std::min(mr, nq - r0)), static_cast<int>(std::min(nr, kn - p * nr)), dh, qp + r0 * dh,
                kb + p * dh * nr, nullptr, 0, TileMode::Only, s + r0 * kFlashKeys + p * nr, kFlashKeys, store);
    if (bias) (*bias)(k0, kn, s, kFlashKeys);
    softmax(s, nq, kn, (kn + 15) / 16 * 16, kFlashKeys, h.scale, m, l, alpha);
    kr.pack_a(s, kFlashKeys, nq, kn, pp);  // the weights as A: panels of mr rows, [kn][rows]
    if (k0 > 0)
      for (std::int64_t i = 0; i < nq; ++i)
        if (alpha[i] != 1.0f)
          for (std::int64_t c = 0; c < ldo_acc; ++c) o[i * ldo_acc + c] *= alpha[i];
    // O = O + P V (the first block stores).
    for (std::int64_t vp = 0; vp < v_panels; ++vp)
      for (std::int64_t r0 = 0; r0 < nq; r0 += mr)
        kr.tile(static_cast<int>(std::min(mr, nq - r0)), static_cast<int>(std::min(nr, dh - vp * nr)), kn, pp + r0 * kn,
                vb + vp * kn * nr, nullptr, 0, TileMode::Only, o + r0 * ldo_acc + vp * nr, ldo_acc,
                k0 > 0 ? accumulate : store);
  }
  for (std::int64_t i = 0; i < nq; ++i) {
    const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
    for (std::int64_t c = 0; c < dh; ++c) out[i * ldo + c] = o[i * ldo_acc + c] * inv;
  }
}

}  // namespace tribev2::detail
