#include <cstdio>
#include <cstring>

#include "common.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2::python {

InputArray input_f32(py::handle obj, const std::string& what) {
  if (obj.is_none()) throw py::type_error(what + ": expected a numpy array, got None");
  // ensure() returns the object itself when it already is C-contiguous float32, else a copy.
  auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr) {
    PyErr_Clear();
    throw py::type_error(what + ": expected a float array, got " + std::string(py::str(py::type::of(obj))));
  }
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  InputArray in{arr, Tensor::view(DType::F32, std::move(shape), arr.data(), nullptr)};
  return in;
}

py::array_t<float> to_numpy(const Tensor& t) {
  const Tensor f = t.to_f32();
  std::vector<py::ssize_t> shape(f.shape().begin(), f.shape().end());
  py::array_t<float> out(shape);
  if (f.numel() > 0) std::memcpy(out.mutable_data(), f.data<float>(), f.nbytes());
  return out;
}

Context make_context(const CallOptions& o) {
  Precision p = Precision::F32;
  if (o.precision == "bf16") p = Precision::BF16;
  else if (o.precision != "f32") fail("precision must be 'f32' or 'bf16', got '", o.precision, "'");
  if (o.threads < 0) fail("threads must be >= 0 (0: all cores), got ", o.threads);
  return Context(o.threads > 0 ? o.threads : threads_from_env(0), p);
}

std::function<void(std::int64_t, std::int64_t)> progress_fn(const std::string& label, bool show,
                                                             const std::atomic<bool>& cancel) {
  return [label, show, &cancel](std::int64_t done, std::int64_t total) {
    if (cancel) throw Cancelled();
    if (show) std::fprintf(stderr, "%s: %lld/%lld\n", label.c_str(), static_cast<long long>(done),
                           static_cast<long long>(total));
  };
}

}  // namespace tribev2::python
