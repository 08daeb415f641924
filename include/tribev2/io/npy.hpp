// NumPy .npy (format versions 1, 2 and 3) and .npz archives.
//
// Reading accepts little- and big-endian f2/f4/f8, i1/i2/i4/i8, u1 and b1 arrays in C or
// Fortran order; the result is always a C-order tensor in native byte order (a zero-copy view
// when the file already is). Writing produces version 1.0 files, C order, little endian.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::io {

// Where an .npy file's array lies: element type, shape, byte offset of the data, and whether
// the bytes are usable as they are (little-endian or 1-byte elements, C order). Validates the
// header and that the data fits, like parse_npy.
struct NpyLayout {
  DType dtype = DType::F32;
  Shape shape;
  std::size_t data_offset = 0;
  bool little_endian = true;
  bool c_order = true;
};
NpyLayout parse_npy_layout(std::span<const std::byte> bytes, std::string_view name);

// `name` is used in error messages (a file path or "archive.npz:entry").
Tensor parse_npy(std::span<const std::byte> bytes, std::string_view name,
                 std::shared_ptr<const void> owner = {});
Tensor read_npy(const std::filesystem::path& path);

std::vector<std::byte> encode_npy(const Tensor& t);
void write_npy(const std::filesystem::path& path, const Tensor& t);

// Streams an array [n, row_shape...] row block by row block, the row count known only at the
// end: nothing but the rows being appended is ever held in memory. The file appears at `path`
// (atomically) on commit(); a writer destroyed before commit() leaves nothing behind.
class NpyRowWriter {
 public:
  NpyRowWriter(const std::filesystem::path& path, DType dtype, Shape row_shape);
  // `n` rows of row_shape elements of dtype, contiguous.
  void append(const void* rows, std::int64_t n);
  std::int64_t rows() const { return rows_; }
  void commit();

 private:
  AtomicFileWriter file_;
  DType dtype_;
  Shape row_shape_;
  std::size_t row_bytes_ = 0, header_size_ = 0;
  std::int64_t rows_ = 0;
};

// .npz: a zip of .npy files; keys are entry names without the ".npy" suffix, in archive order.
std::vector<std::pair<std::string, Tensor>> read_npz(const std::filesystem::path& path);
void write_npz(const std::filesystem::path& path,
               const std::vector<std::pair<std::string, Tensor>>& arrays);

}  // namespace tribev2::io
