#include "tribev2/core/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace tribev2 {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

std::int64_t shape_numel(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) {
    TRIBEV2_CHECK(d >= 0, "negative dimension in shape ", shape_str(s));
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d)
      fail("shape ", shape_str(s), " has too many elements");
    n *= d;
  }
  return n;
}

namespace {
struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

std::shared_ptr<void> aligned_buffer(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<void>(p, AlignedFree{});
}
}  // namespace

Tensor Tensor::empty(DType dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  const std::size_t bytes = static_cast<std::size_t>(t.numel_) * dtype_size(dtype);
  auto buf = aligned_buffer(bytes);
  t.data_ = buf.get();
  t.owner_ = std::move(buf);
  t.writable_ = true;
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(const_cast<void*>(t.data_), 0, t.nbytes());
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner,
                    bool writable) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  t.writable_ = writable;
  return t;
}

std::int64_t Tensor::dim(int i) const {
  const int n = ndim();
  const int j = i < 0 ? i + n : i;
  TRIBEV2_CHECK(j >= 0 && j < n, "dimension ", i, " out of range for shape ", shape_str(shape_));
  return shape_[static_cast<std::size_t>(j)];
}

void* Tensor::raw_mut() {
  TRIBEV2_CHECK(writable_, "tensor of shape ", shape_str(shape_), " is read-only");
  return const_cast<void*>(data_);
}

void Tensor::check_type(DType expected) const {
  TRIBEV2_CHECK(dtype_ == expected, "tensor has dtype ", dtype_name(dtype_), ", expected ",
                dtype_name(expected));
}

Tensor Tensor::reshape(Shape shape) const {
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TRIBEV2_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      TRIBEV2_CHECK(shape[i] >= 0, "reshape: negative dimension in ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    TRIBEV2_CHECK(known > 0 && numel_ % known == 0, "cannot reshape ", shape_str(shape_), " to ",
                  shape_str(shape));
    shape[static_cast<std::size_t>(infer)] = numel_ / known;
  }
  TRIBEV2_CHECK(shape_numel(shape) == numel_, "cannot reshape ", shape_str(shape_), " to ",
                shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

void convert_to_f32(DType dtype, const void* data, std::int64_t offset, std::int64_t n, float* out) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(out, static_cast<const float*>(data) + offset, static_cast<std::size_t>(n) * 4);
      return;
    case DType::BF16: {
      const auto* p = static_cast<const std::uint16_t*>(data) + offset;
      for (std::int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p[i]);
      return;
    }
    case DType::F16: {
      const auto* p = static_cast<const std::uint16_t*>(data) + offset;
      for (std::int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(p[i]);
      return;
    }
    case DType::F64: {
      const auto* p = static_cast<const double*>(data) + offset;
      for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i]);
      return;
    }
    default:
      fail("cannot convert ", dtype_name(dtype), " values to float32");
  }
}

void convert_to_f32(const Tensor& t, std::span<float> out) {
  TRIBEV2_CHECK(static_cast<std::int64_t>(out.size()) == t.numel(), "convert_to_f32: size mismatch");
  convert_to_f32(t.dtype(), t.raw(), 0, t.numel(), out.data());
}

namespace {
template <class Src, class Dst>
void cast_copy(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const Src*>(src);
  auto* d = static_cast<Dst*>(dst);
  for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(s[i]);
}

bool is_integer(DType t) {
  return t == DType::I64 || t == DType::I32 || t == DType::I16 || t == DType::I8 ||
         t == DType::U8 || t == DType::Bool;
}

template <class Dst>
void int_to(DType src_t, const void* src, void* dst, std::int64_t n) {
  switch (src_t) {
    case DType::I64: cast_copy<std::int64_t, Dst>(src, dst, n); return;
    case DType::I32: cast_copy<std::int32_t, Dst>(src, dst, n); return;
    case DType::I16: cast_copy<std::int16_t, Dst>(src, dst, n); return;
    case DType::I8: cast_copy<std::int8_t, Dst>(src, dst, n); return;
    case DType::U8:
    case DType::Bool: cast_copy<std::uint8_t, Dst>(src, dst, n); return;
    default: fail("not an integer dtype");
  }
}
}  // namespace

Tensor Tensor::to(DType target) const {
  if (target == dtype_) return *this;
  Tensor out = empty(target, shape_);
  void* dst = out.raw_mut();
  if (dtype_is_float(target) && dtype_is_float(dtype_)) {
    if (target == DType::F32) {
      convert_to_f32(dtype_, data_, 0, numel_, static_cast<float*>(dst));
      return out;
    }
    // Go through float32 (or double for F64 targets).
    if (target == DType::F64) {
      std::vector<float> tmp(static_cast<std::size_t>(numel_));
      convert_to_f32(dtype_, data_, 0, numel_, tmp.data());
      cast_copy<float, double>(tmp.data(), dst, numel_);
      return out;
    }
    std::vector<float> tmp(static_cast<std::size_t>(numel_));
    convert_to_f32(dtype_, data_, 0, numel_, tmp.data());
    auto* d = static_cast<std::uint16_t*>(dst);
    for (std::int64_t i = 0; i < numel_; ++i)
      d[i] = target == DType::BF16 ? f32_to_bf16(tmp[static_cast<std::size_t>(i)])
                                   : f32_to_f16(tmp[static_cast<std::size_t>(i)]);
    return out;
  }
  if (is_integer(dtype_)) {
    switch (target) {
      case DType::F32: int_to<float>(dtype_, data_, dst, numel_); return out;
      case DType::F64: int_to<double>(dtype_, data_, dst, numel_); return out;
      case DType::I64: int_to<std::int64_t>(dtype_, data_, dst, numel_); return out;
      case DType::I32: int_to<std::int32_t>(dtype_, data_, dst, numel_); return out;
      default: break;
    }
  }
  fail("cannot convert a ", dtype_name(dtype_), " tensor to ", dtype_name(target));
}

Tensor Tensor::clone() const {
  Tensor out = empty(dtype_, shape_);
  if (nbytes()) std::memcpy(out.raw_mut(), data_, nbytes());
  return out;
}

}  // namespace tribev2
