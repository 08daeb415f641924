#include "weight_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tribev2/core/gemm.hpp"

namespace tribev2::text {

const char* weight_type_name(WeightType t) {
  switch (t) {
    case WeightType::F32: return "F32";
    case WeightType::F16: return "F16";
    case WeightType::BF16: return "BF16";
    case WeightType::Q8_0: return "Q8_0";
  }
  return "?";
}

std::size_t WeightMatrix::row_bytes() const {
  switch (type) {
    case WeightType::F32: return static_cast<std::size_t>(cols) * 4;
    case WeightType::F16:
    case WeightType::BF16: return static_cast<std::size_t>(cols) * 2;
    case WeightType::Q8_0: return static_cast<std::size_t>(cols / kQ8Block) * kQ8BlockBytes;
  }
  return 0;
}

void WeightMatrix::row_to_f32(std::int64_t r, float* out) const {
  TRIBEV2_CHECK(r >= 0 && r < rows, "weight row ", r, " out of range [0, ", rows, ")");
  const auto* base = static_cast<const std::byte*>(data) + static_cast<std::size_t>(r) * row_bytes();
  switch (type) {
    case WeightType::F32: convert_to_f32(DType::F32, base, 0, cols, out); break;
    case WeightType::F16: convert_to_f32(DType::F16, base, 0, cols, out); break;
    case WeightType::BF16: convert_to_f32(DType::BF16, base, 0, cols, out); break;
    case WeightType::Q8_0: dequantize_q8_0(base, cols, out); break;
  }
}

void dequantize_q8_0(const void* blocks, std::int64_t n, float* out) {
  const auto* p = static_cast<const std::uint8_t*>(blocks);
  for (std::int64_t b = 0; b < n / kQ8Block; ++b, p += kQ8BlockBytes) {
    std::uint16_t dh;
    std::memcpy(&dh, p, 2);
    const float d = f16_to_f32(dh);
    const auto* q = reinterpret_cast<const std::int8_t*>(p + 2);
    for (std::int64_t i = 0; i < kQ8Block; ++i) out[b * kQ8Block + i] = d * static_cast<float>(q[i]);
  }
}

void quantize_q8_0(const float* x, std::int64_t n, void* blocks) {
  auto* p = static_cast<std::uint8_t*>(blocks);
  for (std::int64_t b = 0; b < n / kQ8Block; ++b, p += kQ8BlockBytes) {
    float amax = 0.0f;
    for (std::int64_t i = 0; i < kQ8Block; ++i) amax = std::max(amax, std::fabs(x[b * kQ8Block + i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const std::uint16_t dh = f32_to_f16(d);
    std::memcpy(p, &dh, 2);
    auto* q = reinterpret_cast<std::int8_t*>(p + 2);
    for (std::int64_t i = 0; i < kQ8Block; ++i) q[i] = static_cast<std::int8_t>(std::lround(x[b * kQ8Block + i] * id));
  }
}

void round_bf16(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = bf16_round(x[i]);
}

void linear_w(const Context& ctx, const float* x, std::int64_t M, std::int64_t K, const WeightMatrix& W, float* y,
              std::int64_t ldy) {
  TRIBEV2_CHECK(W.cols == K, "linear: weight has ", W.cols, " input features, input has ", K);
  if (W.type != WeightType::Q8_0) {
    const DType dt = W.type == WeightType::F32 ? DType::F32 : W.type == WeightType::F16 ? DType::F16 : DType::BF16;
    const MatView mv{dt, W.data, W.rows, W.cols, W.cols};
    gemm(ctx, true, M, W.rows, K, x, K, mv, 0.0f, y, ldy);
    return;
  }
  // Q8_0: each task widens a tile of weight rows to float32 and multiplies it (the nested
  // gemm runs single-threaded inside the pool task).
  const std::int64_t N = W.rows;
  const std::int64_t tile = 64;
  const std::int64_t tiles = (N + tile - 1) / tile;
  ctx.pool().parallel_for(tiles, [&](std::int64_t t0, std::int64_t t1) {
    std::vector<float> buf(static_cast<std::size_t>(tile * K));
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t n0 = t * tile, nn = std::min(tile, N - n0);
      for (std::int64_t r = 0; r < nn; ++r) W.row_to_f32(n0 + r, buf.data() + r * K);
      const MatView mv{DType::F32, buf.data(), nn, K, K};
      gemm(ctx, true, M, nn, K, x, K, mv, 0.0f, y + n0, ldy);
    }
  });
}

}  // namespace tribev2::text
