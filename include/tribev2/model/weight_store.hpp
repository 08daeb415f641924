// Named tensors with strict, load_state_dict(strict=True)-like checks. Knows nothing of the
// file format the tensors came from.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tribev2/core/tensor.hpp"

namespace tribev2::model {

class WeightStore {
 public:
  WeightStore() = default;
  explicit WeightStore(std::string source) : source_(std::move(source)) {}

  void add(std::string name, Tensor t);
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor* find(const std::string& name) const;
  // The tensor `name` with exactly `shape`, or an error naming the key and both shapes.
  const Tensor& require(const std::string& name, const Shape& shape) const;
  std::vector<std::string> names() const;
  std::size_t size() const { return tensors_.size(); }
  const std::string& source() const { return source_; }

  // Compares the store against the expected (name, shape) list: every expected tensor
  // present with the right shape, nothing unexpected. Throws one error listing all problems.
  void check_exact(const std::vector<std::pair<std::string, Shape>>& expected) const;

 private:
  std::string source_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace tribev2::model
