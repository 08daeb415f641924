// SHA-256 (OpenSSL's libcrypto) for content-addressed caches, model fingerprints and the
// pinned downloads: the one hash of the project.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tribev2::io {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  Sha256& update(const void* data, std::size_t n);
  Sha256& update(std::span<const std::byte> data) { return update(data.data(), data.size()); }
  Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
  Sha256& update_u64(std::uint64_t v);  // 8 bytes, little endian
  Sha256& update_f64(double v);         // the 8 bytes of the IEEE value
  // A length-prefixed field, so that concatenations cannot collide ("ab"+"c" vs "a"+"bc").
  Sha256& field(std::string_view text);
  // Finishes; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  std::string hex();  // digest() as 64 lowercase hex digits

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  bool done_ = false;
};

std::string sha256_hex(std::string_view text);
std::string sha256_hex(std::span<const std::byte> bytes);
// A file's bytes, streamed (any size). Errors name the file.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace tribev2::io
