// Whole-file reads, memory maps and atomic writes.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tribev2::io {

// A read-only memory map of a whole file. Shared so that tensors viewing it keep it alive.
class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::filesystem::path path_;
};

std::vector<std::byte> read_file(const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);

// A file written in pieces to a temporary file next to `path` and renamed over `path` by
// commit(), so an interrupted write never leaves a partial file behind (the destructor removes
// the temporary file of an uncommitted writer). Errors name `path`.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::span<const std::byte> bytes);
  // Overwrites bytes already written at `offset` (e.g. a header patched once the size is known).
  void overwrite(std::size_t offset, std::span<const std::byte> bytes);
  std::size_t size() const { return size_; }
  void commit();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_, tmp_;
  std::FILE* f_ = nullptr;
  std::size_t size_ = 0;
};

// Writes to a temporary file next to `path`, then renames it over `path`, so an interrupted
// write never leaves a partial file behind.
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_text_file_atomic(const std::filesystem::path& path, std::string_view text);

}  // namespace tribev2::io
