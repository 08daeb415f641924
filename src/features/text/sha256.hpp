// SHA-256 (FIPS 180-4) for cache keys and model fingerprints.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tribev2::text {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Adds a length-prefixed field so that concatenations cannot collide ("ab"+"c" vs "a"+"bc").
  void field(std::string_view s);
  std::array<std::uint8_t, 32> digest();
  std::string hex();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view s);

}  // namespace tribev2::text
