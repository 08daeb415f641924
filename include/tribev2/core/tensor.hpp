// A dense, row-major (C-order) tensor. Storage is shared and reference counted: a tensor
// either owns an aligned heap buffer or views memory owned by someone else (a memory-mapped
// file, a zip entry) and keeps that owner alive. Views of read-only memory are read-only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tribev2/core/dtype.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2 {

using Shape = std::vector<std::int64_t>;

std::string shape_str(const Shape& s);        // "[2, 3, 4]"
std::int64_t shape_numel(const Shape& s);      // product, checked for overflow and negatives

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<std::int16_t>() { return DType::I16; }
template <> constexpr DType dtype_of<std::int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::U8; }

class Tensor {
 public:
  Tensor() = default;

  // A new, owned, 64-byte aligned buffer; contents uninitialised (empty) or zero (zeros).
  static Tensor empty(DType dtype, Shape shape);
  static Tensor zeros(DType dtype, Shape shape);
  // A view of external memory; `owner` keeps it alive (may be null for static data).
  static Tensor view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner,
                     bool writable = false);
  template <class T>
  static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t = empty(dtype_of<T>(), std::move(shape));
    TRIBEV2_CHECK(static_cast<std::int64_t>(values.size()) == t.numel(), "Tensor::from: ",
                  values.size(), " values for shape ", shape_str(t.shape()));
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }

  bool defined() const { return data_ != nullptr || numel_ == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  std::int64_t dim(int i) const;  // negative i counts from the end
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool writable() const { return writable_; }

  const void* raw() const { return data_; }
  void* raw_mut();

  // Typed access; throws if T does not match the dtype (or if the tensor is read-only).
  template <class T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_);
  }
  template <class T>
  T* data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(raw_mut());
  }
  std::span<const float> f32() const { return {data<float>(), static_cast<std::size_t>(numel_)}; }
  std::span<float> f32() { return {data<float>(), static_cast<std::size_t>(numel_)}; }

  // Same storage, new shape (numel must match; -1 infers one dimension).
  Tensor reshape(Shape shape) const;
  // A copy in another dtype (float types convert exactly or round to nearest even; integer
  // targets only from integers). to(dtype()) returns a shallow copy.
  Tensor to(DType dtype) const;
  // A float32 tensor: shares storage when already F32, else converts.
  Tensor to_f32() const { return to(DType::F32); }
  // A deep, owned, writable copy.
  Tensor clone() const;

 private:
  void check_type(DType expected) const;
  DType dtype_ = DType::F32;
  Shape shape_;
  std::int64_t numel_ = 0;
  const void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
  bool writable_ = false;
};

// Widens any float tensor's elements (F32/F16/BF16/F64) into `out` (size numel).
void convert_to_f32(const Tensor& t, std::span<float> out);
// Widens n elements of a float buffer of type `dtype` starting at element `offset`.
void convert_to_f32(DType dtype, const void* data, std::int64_t offset, std::int64_t n, float* out);

}  // namespace tribev2
