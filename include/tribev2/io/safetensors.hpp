// safetensors files: an 8-byte little-endian header length, a JSON header, then raw tensor
// bytes. The file is memory-mapped and tensors are zero-copy views of it (copied only when a
// tensor is not aligned to its element size), so loading costs no second copy of the weights.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::io {

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);
  // Parses an in-memory image (used by the fuzzer); `name` appears in error messages.
  static SafetensorsFile parse(std::span<const std::byte> bytes, const std::string& name,
                               const std::shared_ptr<const void>& owner);

  // Names in header order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor& get(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> names_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace tribev2::io
