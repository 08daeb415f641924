#include "tribev2/io/feature_file.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::io {

Tensor read_feature_file(const std::filesystem::path& path, const std::string& modality,
                         const std::optional<Shape>& bin_shape) {
  const std::string ext = path.extension().string();
  Tensor t;
  if (ext == ".npy") {
    t = read_npy(path);
  } else if (ext == ".npz") {
    auto arrays = read_npz(path);
    const Tensor* found = nullptr;
    for (const auto& [k, v] : arrays)
      if (k == modality) found = &v;
    if (!found && arrays.size() == 1) found = &arrays.front().second;
    if (!found) {
      std::string keys;
      for (const auto& [k, v] : arrays) keys += (keys.empty() ? "" : ", ") + k;
      fail(path.string(), ": no array named '", modality, "' (arrays: ", keys, ")");
    }
    t = *found;
  } else if (ext == ".bin") {
    if (!bin_shape) fail(path.string(), ": raw .bin features need --shape (e.g. --shape 2,3072,N)");
    auto map = MappedFile::open(path);
    const std::int64_t n = shape_numel(*bin_shape);
    if (static_cast<std::uint64_t>(n) * 4 != map->size())
      fail(path.string(), ": ", map->size(), " bytes, but --shape ", shape_str(*bin_shape), " of float32 needs ", n * 4);
    t = Tensor::view(DType::F32, *bin_shape, map->data(), map);
  } else {
    fail(path.string(), ": unsupported feature file type '", ext, "' (use .npy, .npz or .bin)");
  }
  if (t.dtype() == DType::F16 || t.dtype() == DType::F64) t = t.to_f32();
  if (t.dtype() != DType::F32) fail(path.string(), ": features must be float32 or float16, got ", dtype_name(t.dtype()));
  return t;
}

}  // namespace tribev2::io
