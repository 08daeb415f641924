#include "tribev2/core/weight_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tribev2/core/dtype.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2 {

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

namespace {
DType float_dtype(WeightType t) {
  switch (t) {
    case WeightType::F32: return DType::F32;
    case WeightType::F16: return DType::F16;
    case WeightType::BF16: return DType::BF16;
    case WeightType::Q8_0: break;
  }
  throw Error("a Q8_0 weight has no dense float view (it is widened tile by tile)");
}
}  // namespace

MatView WeightMatrix::view() const { return MatView{float_dtype(type), data, rows, cols, cols}; }

WeightMatrix WeightMatrix::of(const MatView& m) {
  TRIBEV2_CHECK(m.ld == m.cols, "WeightMatrix: a weight view must be dense (ld ", m.ld, " != cols ", m.cols, ")");
  WeightMatrix w;
  switch (m.dtype) {
    case DType::F32: w.type = WeightType::F32; break;
    case DType::F16: w.type = WeightType::F16; break;
    case DType::BF16: w.type = WeightType::BF16; break;
    default: throw Error(std::string("WeightMatrix: weights must be F32, F16 or BF16, got ") +
                         std::string(dtype_name(m.dtype)));
  }
  w.data = m.data;
  w.rows = m.rows;
  w.cols = m.cols;
  return w;
}

void WeightMatrix::row_to_f32(std::int64_t r, float* out) const {
  TRIBEV2_CHECK(r >= 0 && r < rows, "weight row ", r, " out of range [0, ", rows, ")");
  const auto* base = static_cast<const std::byte*>(data) + static_cast<std::size_t>(r) * row_bytes();
  if (type == WeightType::Q8_0)
    dequantize_q8_0(base, cols, out);
  else
    convert_to_f32(float_dtype(type), base, 0, cols, out);
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

}  // namespace tribev2
