#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/test_support.hpp"
#include "tribev2/core/dtype.hpp"
#include "tribev2/core/tensor.hpp"

using namespace tribev2;

TEST(DType, Bf16RoundTripAndRounding) {
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(-2.5f)), -2.5f);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even -> 1.0
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + 0x1p-8f)), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f)), 1.0f + 0x1p-7f);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, F16ExactOnAllValues) {
  // Every finite half converts to float and back unchanged.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto hv = static_cast<std::uint16_t>(h);
    const float f = f16_to_f32(hv);
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), hv) << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), 0x1p-24f);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);  // tie -> even
}

TEST(Tensor, CreateReshapeConvert) {
  Tensor t = Tensor::zeros(DType::F32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(-1), 3);
  t.data<float>()[4] = 2.5f;
  const Tensor r = t.reshape({3, -1});
  EXPECT_EQ(shape_str(r.shape()), "[3, 2]");
  EXPECT_EQ(r.data<float>()[4], 2.5f);  // shares storage
  const Tensor h = t.to(DType::F16);
  EXPECT_EQ(h.dtype(), DType::F16);
  EXPECT_EQ(h.to_f32().data<float>()[4], 2.5f);
  EXPECT_THROW(t.reshape({4, 2}), Error);
  EXPECT_THROW(t.data<double>(), Error);
  const std::int64_t vals[] = {1, 2, 3};
  const Tensor i = Tensor::from<std::int64_t>({3}, vals);
  EXPECT_EQ(i.to(DType::F32).data<float>()[2], 3.0f);
}

TEST(Tensor, ReadOnlyViewsRefuseWrites) {
  static const float data[] = {1, 2, 3};
  Tensor v = Tensor::view(DType::F32, {3}, data, nullptr);
  EXPECT_FALSE(v.writable());
  EXPECT_EQ(std::as_const(v).data<float>()[1], 2.0f);
  EXPECT_THROW(v.data<float>(), Error);
  Tensor c = v.clone();
  c.data<float>()[0] = 5;
  EXPECT_EQ(data[0], 1.0f);
}

TEST(Tensor, ShapeOverflowIsAnError) {
  EXPECT_THROW(shape_numel({std::int64_t{1} << 40, std::int64_t{1} << 40}), Error);
  EXPECT_THROW(shape_numel({-1}), Error);
}
