#include "tribev2/io/feature_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::io {

namespace {

// An open file descriptor, closed with the last reader that uses it.
class Fd {
 public:
  explicit Fd(const std::filesystem::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) fail(path.string(), ": cannot open: ", std::strerror(errno));
  }
  ~Fd() { ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void read_at(std::uint64_t offset, void* dst, std::size_t n) const {
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail(path_.string(), ": read failed at byte ", offset, got < 0 ? ": " : " (file shrank?)", got < 0 ? std::strerror(errno) : "");
      out += got;
      offset += static_cast<std::uint64_t>(got);
      n -= static_cast<std::size_t>(got);
    }
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

}  // namespace

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

FeatureFile open_feature_file(const std::filesystem::path& path, const std::string& modality,
                              const std::optional<Shape>& bin_shape) {
  FeatureFile f;
  f.data = read_feature_file(path, modality, bin_shape);
  const std::string ext = path.extension().string();
  if (ext != ".npy" && ext != ".bin") return f;
  if (f.data.dtype() != DType::F32 || f.data.ndim() < 1) return f;  // converted from float16/64
  std::uint64_t offset = 0;  // .bin: raw float32 from byte 0
  if (ext == ".npy") {
    const auto map = MappedFile::open(path);
    const NpyLayout l = parse_npy_layout(map->bytes(), path.string());
    if (l.dtype != DType::F32 || !l.little_endian || !l.c_order) return f;
    offset = l.data_offset;
  }
  const std::int64_t n = f.data.dim(-1);
  const std::int64_t channels = n > 0 ? f.data.numel() / n : 0;
  auto fd = std::make_shared<const Fd>(path);
  f.read_window = [fd, offset, n, channels](std::int64_t step0, std::int64_t count, float* dst) {
    TRIBEV2_CHECK(step0 >= 0 && count >= 0 && step0 + count <= n, "feature window [", step0, ", ", step0 + count,
                  ") outside the series of ", n, " steps");
    if (count == 0) return;
    for (std::int64_t c = 0; c < channels; ++c)
      fd->read_at(offset + static_cast<std::uint64_t>(c * n + step0) * 4, dst + c * count, static_cast<std::size_t>(count) * 4);
  };
  return f;
}

}  // namespace tribev2::io
