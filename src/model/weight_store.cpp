#include "tribev2/model/weight_store.hpp"

#include <sstream>

#include "tribev2/core/error.hpp"

namespace tribev2::model {

void WeightStore::add(std::string name, Tensor t) {
  if (tensors_.count(name)) fail(source_, ": duplicate tensor '", name, "'");
  tensors_.emplace(std::move(name), std::move(t));
}

const Tensor* WeightStore::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const Tensor& WeightStore::require(const std::string& name, const Shape& shape) const {
  const Tensor* t = find(name);
  if (!t) fail(source_, ": missing tensor '", name, "' (expected shape ", shape_str(shape), ")");
  if (t->shape() != shape)
    fail(source_, ": tensor '", name, "' has shape ", shape_str(t->shape()), ", expected ", shape_str(shape));
  return *t;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [k, v] : tensors_) out.push_back(k);
  return out;
}

void WeightStore::check_exact(const std::vector<std::pair<std::string, Shape>>& expected) const {
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const auto& [name, shape] : expected) {
    seen.insert(name);
    const Tensor* t = find(name);
    if (!t) {
      problems.push_back("missing '" + name + "' (expected shape " + shape_str(shape) + ")");
    } else if (t->shape() != shape) {
      problems.push_back("'" + name + "' has shape " + shape_str(t->shape()) + ", expected " + shape_str(shape));
    } else if (!dtype_is_float(t->dtype())) {
      problems.push_back("'" + name + "' has dtype " + std::string(dtype_name(t->dtype())) + ", expected a float type");
    }
  }
  for (const auto& [name, t] : tensors_)
    if (!seen.count(name)) problems.push_back("unexpected '" + name + "' " + shape_str(t.shape()));
  if (problems.empty()) return;
  std::ostringstream msg;
  msg << source_ << ": weights do not match the configured architecture (" << problems.size()
      << " problem" << (problems.size() > 1 ? "s" : "") << "): ";
  for (std::size_t i = 0; i < problems.size() && i < 8; ++i) msg << (i ? "; " : "") << problems[i];
  if (problems.size() > 8) msg << "; ... and " << problems.size() - 8 << " more";
  throw Error(msg.str());
}

}  // namespace tribev2::model
