// A 128-bit non-cryptographic content hash for feature-cache keys (two independent 64-bit
// multiply-rotate lanes over 8-byte words, splitmix64 finalisation). It guards against stale
// cache entries, not against an adversary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace tribev2::features::audio {

class ContentHash {
 public:
  ContentHash& update(std::span<const std::byte> bytes);
  ContentHash& update(std::string_view text);
  ContentHash& update_u64(std::uint64_t v);
  ContentHash& update_f64(double v);
  // 32 lowercase hex digits.
  std::string hex() const;

 private:
  std::uint64_t a_ = 0x243f6a8885a308d3ull;
  std::uint64_t b_ = 0x13198a2e03707344ull;
  std::uint64_t length_ = 0;
  std::uint8_t tail_[8] = {};
  int tail_len_ = 0;
  void mix(std::uint64_t w);
};

// The hash of a whole file's bytes (memory-mapped).
std::string hash_file(const std::filesystem::path& path);

}  // namespace tribev2::features::audio
