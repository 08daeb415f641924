// PyTorch's zip serialisation (torch.save since 1.6): <prefix>/data.pkl plus one entry per
// storage under <prefix>/data/<key>. The prefix is usually "archive" but is whatever the file
// was named when saved (e.g. "best"), so it is discovered, not assumed.
//
// Tensors come back as pickle values of Kind::External ("tensor") holding a tribev2::Tensor
// that views its storage buffer (copied only for non-contiguous strides).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "tribev2/core/tensor.hpp"
#include "tribev2/io/pickle.hpp"

namespace tribev2::io {

struct TorchArchive {
  std::string prefix;                     // top-level folder inside the zip
  std::shared_ptr<pickle::Arena> arena;   // owns every value (and, through them, the tensors)
  pickle::ValuePtr root = nullptr;        // the unpickled object
};

TorchArchive read_torch_archive(const std::filesystem::path& path);

// The tensor inside a value produced by read_torch_archive, or null if it is not a tensor.
const Tensor* as_tensor(pickle::ValuePtr v);

}  // namespace tribev2::io
