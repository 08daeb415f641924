// Content hashes for the stage cache: SHA-256 (FIPS 180-4) of bytes and files, and a
// fingerprint of model folders.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace tribev2::pipeline {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  void update(std::string_view text);
  std::array<std::uint8_t, 32> digest();  // finishes; the object must not be updated afterwards
  std::string hex();                      // digest() as 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
  bool done_ = false;
};

std::string sha256_hex(std::string_view text);
// SHA-256 of a file's bytes (streamed; works on files of any size).
std::string sha256_file(const std::filesystem::path& path);

// Identity of a model file or folder for cache keys. Every regular file under the path
// (recursively, hidden files skipped, sorted by relative name) contributes its relative name
// and size; files up to 64 MiB contribute their whole content hash, larger ones (weights)
// the hash of their first and last 4 MiB plus their modification time. Hashing multi-GB
// weights in full on every run would cost seconds; a changed weight file almost always
// changes its size, header, tail or mtime.
std::string fingerprint_path(const std::filesystem::path& path);

}  // namespace tribev2::pipeline
