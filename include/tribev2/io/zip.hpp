// Zip archives (via libzip): the container of .npz files and PyTorch checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tribev2::io {

struct ZipEntry {
  std::string name;
  std::uint64_t size = 0;  // uncompressed
  bool stored = false;     // no compression
};

class ZipReader {
 public:
  explicit ZipReader(const std::filesystem::path& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  // Reads a whole entry; errors name the archive and the entry.
  std::vector<std::byte> read(const std::string& name) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  void* zip_ = nullptr;  // zip_t*
  std::uint64_t archive_size_ = 0;
  std::vector<ZipEntry> entries_;
};

// Writes an uncompressed zip (atomically: temp file + rename).
void write_zip_stored(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::vector<std::byte>>>& entries);

}  // namespace tribev2::io
